"""Everything the CLI prints: results on stdout, errors and progress on stderr."""

from __future__ import annotations

import json
import os
from typing import Any, Self

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from decomposer.errors import DecomposerError

# NO_COLOR (no-color.org): rich alone would drop colours but keep bold and dim; with no
# colour system it writes no style codes at all, even when FORCE_COLOR forces a terminal.
_COLORS: Any = None if os.environ.get("NO_COLOR") else "auto"
stdout = Console(highlight=False, soft_wrap=True, color_system=_COLORS)  # paths stay whole
stderr = Console(stderr=True, highlight=False, soft_wrap=True, color_system=_COLORS)
_quiet = False


def set_quiet(quiet: bool) -> None:
    """--quiet: no progress bars, and on stdout only where results were written (`essential`).
    Errors (stderr) and --format json output are never silenced."""
    global _quiet
    _quiet = quiet
    stdout.quiet = quiet


def essential(console: Console, markup: str) -> None:
    """Print even under --quiet: where the results are, and what failed."""
    quiet, console.quiet = console.quiet, False
    try:
        console.print(markup)
    finally:
        console.quiet = quiet


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
            disable=_quiet or not console.is_terminal,
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
        f"[dim](cache: {summary['cache']['hits']} hits, {summary['cache']['misses']} misses"
        + (
            f"; {static['modules_resolved']} modules resolved"
            if "modules_resolved" in static
            else ""
        )
        + ")[/]"
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
    history = summary["analyzers"].get("history", {})
    if history.get("enabled"):
        console.print(
            f"History: {history['commits']:,} commits by {history['authors']:,} "
            f"author{'s' * (history['authors'] != 1)} read "
            f"in {history['seconds']:.2f} s ({history['co_changes']:,} co-change pairs)"
        )
    if history.get("note"):
        console.print(f"[dim]history: {escape(history['note'])}[/]")
    runtime = summary["analyzers"].get("runtime", {})
    if runtime.get("traces"):
        segments = runtime["segments"]
        console.print(
            f"Traces: {runtime['traces']} read, {segments:,} use case{'s' * (segments != 1)}, "
            f"{runtime['edges_added']:,} call edges added, "
            f"{runtime['edges_confirmed']:,} confirmed"
        )
        if runtime["rows_unmatched"]:
            first = ", ".join(runtime["unmatched_first"])
            console.print(
                f"[dim]traces: {runtime['rows_unmatched']:,} rows matched no analysed code "
                f"(tests, excluded files, code made at run time), e.g. {escape(first)}[/]"
            )
        for path in runtime.get("incomplete", ()):
            console.print(
                f"[yellow]trace {escape(path)} is incomplete[/] (the command was cut short)"
            )
    diagnostics = summary["diagnostics"]
    if diagnostics["total"]:
        codes = ", ".join(f"{code} {n}" for code, n in diagnostics["by_code"].items())
        console.print(f"[yellow]{diagnostics['total']} diagnostics[/] ({escape(codes)})")
        for d in diagnostics["first"][:5]:
            where = f"{d['file']}:{d['line']}" if d["line"] else d["file"]
            console.print(f"  [dim]{escape(where)}[/] {d['code']}: {escape(d['message'])}")
    essential(console, f"Graph written to [bold]{escape(summary['output'])}[/]")


# Metrics shown in the terminal summaries, in this order (all are in proposal.json).
KEY_METRICS = (
    "modularity",
    "structural_modularity",
    "icp",
    "ifn",
    "ned",
    "bcp",
    "shared_tables",
    "cross_service_foreign_keys",
    "service_cycles",
    "sagas_needed",
    "size_balance",
)
AGREEMENT = ("mojofm", "ari", "ami", "nmi")


def _number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return f"{value:,}" if isinstance(value, int) else escape(str(value))


def render_proposal_summary(summary: dict[str, Any], console: Console = stdout) -> None:
    services = summary["services"]
    console.print(
        f"[bold]{escape(summary['strategy'])}[/]: {len(services)} services at the "
        f"{summary['level']} level [dim]({escape(summary['k_choice'])})[/]"
    )
    table = Table(header_style="bold", box=None, pad_edge=False)
    for column, justify in (
        ("service", "left"),
        ("atoms", "right"),
        ("loc", "right"),
        ("API", "right"),
        ("tables", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for service in services:
        tables = service["tables"]
        shown = ", ".join(tables[:4]) + (f" +{len(tables) - 4}" if len(tables) > 4 else "")
        table.add_row(
            escape(service["name"]),
            f"{service['atoms']:,}",
            f"{service['loc']:,}",
            f"{service['api']:,}",
            escape(shown),
        )
    console.print(table)
    if summary["shared"]:
        console.print(f"shared utilities: {summary['shared']} atoms (proposed as a library)")
    values = summary["metrics"]
    console.print(
        "  ".join(f"{m} [bold]{_number(values.get(m))}[/]" for m in KEY_METRICS if m in values)
    )
    if values.get("tsr") is not None:
        console.print(
            f"team size reduction [bold]{_number(values['tsr'])}[/] "
            "[dim](authors of a service / authors of the monolith, mean over services)[/]"
        )
    findings = summary.get("findings", {})
    if findings:
        parts = [
            f"{kind} {sum(counts.values())}"
            + (f" [red]({counts['high']} high)[/]" if counts.get("high") else "")
            for kind, counts in findings.items()
        ]
        console.print("findings: " + ", ".join(parts))
    if summary.get("extraction_order"):
        console.print("extraction order: " + " → ".join(map(escape, summary["extraction_order"])))
    if summary.get("output"):
        essential(console, f"Proposal written to [bold]{escape(summary['output'])}[/]")


def render_comparison(summary: dict[str, Any], console: Console = stdout) -> None:
    results = summary["strategies"]
    names = list(results)
    table = Table(header_style="bold", box=None, pad_edge=False, title_justify="left")
    table.add_column("metric")
    for name in names:
        table.add_column(escape(name), justify="right")
    best = summary["best"]
    table.add_row("services", *(f"{len(results[n]['services'])}" for n in names))
    rows = [(m, "metrics") for m in KEY_METRICS]
    rows += [
        (m, "agreement") for m in AGREEMENT if any("agreement" in r for r in results.values())
    ]
    for metric, where in rows:
        cells = []
        for name in names:
            value = results[name].get(where, {}).get(metric)
            text = _number(value)
            cells.append(f"[bold green]{text}[/]" if name in best.get(metric, ()) else text)
        table.add_row(metric, *cells)
    console.print(table)
    console.print("[dim]best value per metric in green; directions in docs/metrics.md[/]")
    for name, message in summary["failed"].items():
        essential(console, f"[red]{escape(name)} failed:[/] {escape(message)}")


def render_strategies(summary: dict[str, Any], console: Console = stdout) -> None:
    table = Table(header_style="bold", box=None, pad_edge=False)
    table.add_column("strategy")
    table.add_column("what it does")
    for entry in summary["strategies"]:
        what = entry.get("summary") or f"[red]cannot load: {escape(entry.get('error', ''))}[/]"
        table.add_row(escape(entry["name"]), what)
    console.print(table)


def render_report_summary(summary: dict[str, Any], console: Console = stdout) -> None:
    for path in summary["files"]:
        console.print(f"wrote {escape(path)}")
    if summary["report"]:
        essential(console, f"Report: [bold]{escape(summary['report'])}[/]")


def render_run_summary(summary: dict[str, Any], console: Console = stdout) -> None:
    analysis = summary["analysis"]
    console.print(
        f"Analysed {analysis['modules']:,} modules ({analysis['lines_of_code']:,} lines of "
        f"code); proposed {len(summary['services'])} services with "
        f"[bold]{escape(summary['strategy'])}[/]"
        + (
            f", compared with {len(summary['compared']) - 1} other strategies"
            if len(summary["compared"]) > 1
            else ""
        )
    )
    for name, message in summary["failed"].items():
        essential(console, f"[red]{escape(name)} failed:[/] {escape(message)}")
    essential(console, f"Report: [bold]{escape(summary['report'])}[/]")
