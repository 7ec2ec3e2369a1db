"""The command line: parse options, call a use case in pipeline.py, render, exit.

Exit codes: 0 success, 1 a check found regressions, 2 bad usage or bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from decomposer import console, pipeline
from decomposer.errors import DecomposerError
from decomposer.plugins import default_registry

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Propose how to cut a Python monolith into microservices, with the evidence.",
)


class Format(StrEnum):
    text = "text"
    json = "json"


DebugOption = Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")]
FormatOption = Annotated[Format, typer.Option("--format", help="text for people, json for tools.")]


@app.callback()
def main() -> None:
    """Propose how to cut a Python monolith into microservices, with the evidence."""


@app.command()
def analyze(
    path: Annotated[Path, typer.Argument(help="The project folder to analyse.")],
    out: Annotated[
        Path, typer.Option("-o", "--out", help="Where to write the graph.")
    ] = pipeline.GRAPH_PATH,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=0, help="Worker processes (0: one per core).")
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Glob of paths to leave out (repeatable)."),
    ] = None,
    source_root: Annotated[
        list[str] | None,
        typer.Option("--source-root", help="Folder holding top-level packages (repeatable)."),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Re-parse every file.")] = False,
    output_format: FormatOption = Format.text,
    debug: DebugOption = False,
) -> None:
    """Read a source tree (never importing it) and write its dependency graph."""
    overrides: dict[str, Any] = {}
    if jobs is not None:
        overrides["jobs"] = jobs
    if exclude:
        overrides["exclude"] = tuple(exclude)
    if source_root:
        overrides["source_roots"] = tuple(source_root)
    request = pipeline.AnalyzeRequest(path, out, overrides, use_cache=not no_cache)

    def action() -> pipeline.Outcome:
        with console.BarProgress() as progress:
            return pipeline.analyze(request, registry=default_registry(), progress=progress)

    _run(action, console.render_analyze_summary, output_format, debug)


def _run(
    action: Callable[[], pipeline.Outcome],
    render: Callable[[dict[str, Any]], None],
    output_format: Format,
    debug: bool,
) -> None:
    try:
        outcome = action()
    except DecomposerError as err:
        if debug:
            raise
        console.render_error(err)
        raise typer.Exit(err.exit_code) from None
    if output_format is Format.json:
        console.render_json(outcome.summary)
    else:
        render(outcome.summary)
    raise typer.Exit(outcome.exit_code)
