"""Everything the CLI prints: results on stdout, errors and progress on stderr."""

from __future__ import annotations

import json
from typing import Any, Self

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from decomposer.errors import DecomposerError

stdout = Console(highlight=False, soft_wrap=True)  # never break paths across lines
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def render_error(err: DecomposerError, console: Console = stderr) -> None:
    console.print(f"[bold red]error:[/] {escape(err.message)}")
    for line in err.details:
        console.print(f"  • {escape(line)}")
    if err.hint:
        console.print(f"[dim]hint:[/] {escape(err.hint)}")


def render_json(data: Any, console: Console = stdout) -> None:
    console.file.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


class BarProgress:
    """A rich progress bar on stderr, shown only when stderr is a terminal."""

    def __init__(self, console: Console = stderr) -> None:
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._task: Any = None

    def __enter__(self) -> Self:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def start(self, description: str, total: int) -> None:
        self._task = self._bar.add_task(description, total=total)

    def advance(self, amount: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, amount)


def render_analyze_summary(summary: dict[str, Any], console: Console = stdout) -> None:
    static = summary["analyzers"].get("static", {})
    console.print(
        f"[bold]Analysed[/] {static.get('files', 0)} files "
        f"({summary['lines_of_code']:,} lines of code) in {summary['seconds']:.2f} s "
        f"[dim](cache: {summary['cache']['hits']} hits, {summary['cache']['misses']} misses)[/]"
    )
    counts = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    counts.add_column("nodes")
    counts.add_column("", justify="right")
    counts.add_column("  edges")
    counts.add_column("", justify="right")
    nodes = [(k, v) for k, v in summary["nodes"].items() if v]
    edges = [(k, v) for k, v in summary["edges"].items() if v]
    for i in range(max(len(nodes), len(edges))):
        n = nodes[i] if i < len(nodes) else ("", "")
        e = edges[i] if i < len(edges) else ("", "")
        counts.add_row(
            n[0], f"{n[1]:,}" if n[1] != "" else "", "  " + e[0], f"{e[1]:,}" if e[1] != "" else ""
        )
    console.print(counts)
    diagnostics = summary["diagnostics"]
    if diagnostics["total"]:
        codes = ", ".join(f"{code} {n}" for code, n in diagnostics["by_code"].items())
        console.print(f"[yellow]{diagnostics['total']} diagnostics[/] ({escape(codes)})")
        for d in diagnostics["first"][:5]:
            where = f"{d['file']}:{d['line']}" if d["line"] else d["file"]
            console.print(f"  [dim]{escape(where)}[/] {d['code']}: {escape(d['message'])}")
    console.print(f"Graph written to [bold]{escape(summary['output'])}[/]")
