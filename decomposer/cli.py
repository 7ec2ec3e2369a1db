"""The command line: parse options, call a use case in pipeline.py, render, exit.

Exit codes: 0 success, 1 a check found regressions, 2 bad usage or bad input, 130 interrupted
(Ctrl-C).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from decomposer import check, check_formats, console, lifetime, pipeline
from decomposer.errors import DecomposerError
from decomposer.plugins import Registry, default_registry, discover

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Propose how to cut a Python monolith into microservices, with the evidence.",
)


class Format(StrEnum):
    text = "text"
    json = "json"


class Level(StrEnum):
    module = "module"
    class_ = "class"
    function = "function"


#: The shell's code for a command ended by Ctrl-C (128 + SIGINT).
INTERRUPTED = 130

DebugOption = Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")]
FormatOption = Annotated[Format, typer.Option("--format", help="text for people, json for tools.")]


@app.callback()
def main(
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress bars; print only where results went."),
    ] = False,
) -> None:
    """Propose how to cut a Python monolith into microservices, with the evidence."""
    console.set_quiet(quiet)  # set on every invocation: tests run several in one process


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
    no_history: Annotated[
        bool, typer.Option("--no-history", help="Leave out co-changes and authors from git.")
    ] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="Read only commits after DATE (git log --since).")
    ] = None,
    max_commits: Annotated[
        int | None,
        typer.Option("--max-commits", min=0, help="Read at most N commits, newest first."),
    ] = None,
    trace: Annotated[
        list[Path] | None,
        typer.Option(
            "--trace", help="A trace file from `decomposer trace` to merge (repeatable)."
        ),
    ] = None,
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
    if no_history:
        overrides["history"] = False
    if since is not None:
        overrides["since"] = since
    if max_commits is not None:
        overrides["max_commits"] = max_commits
    if trace:
        overrides["traces"] = tuple(str(p.resolve()) for p in trace)
    request = pipeline.AnalyzeRequest(path, out, overrides, use_cache=not no_cache)

    def action() -> pipeline.Outcome:
        with console.BarProgress() as progress:
            return pipeline.analyze(request, registry=default_registry(), progress=progress)

    _run(action, console.render_analyze_summary, output_format, debug)


ServicesOption = Annotated[
    int | None,
    typer.Option("--services", "-k", min=1, help="How many services (default: chosen)."),
]
LevelOption = Annotated[Level, typer.Option("--level", help="The unit assigned to services.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of every random choice.")]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="pyproject.toml with tool.decomposer.strategies.<name> options and constraints "
        "(default: ./pyproject.toml when there is one).",
    ),
]
ConstraintsOption = Annotated[
    Path | None,
    typer.Option("--constraints", help="A proposal.json whose constraints to honour."),
]


def _base_request(
    graph: Path,
    strategy: str,
    services: int | None,
    level: Level,
    seed: int,
    out: Path,
    config: Path | None,
    constraints: Path | None,
) -> pipeline.DecomposeRequest:
    if config is None and Path("pyproject.toml").is_file():
        config = Path("pyproject.toml")
    return pipeline.DecomposeRequest(
        graph, strategy, services, level.value, seed, out, config, constraints
    )


@app.command()
def decompose(
    graph: Annotated[Path, typer.Argument(help="graph.json written by decomposer analyze.")],
    strategy: Annotated[
        str, typer.Option("--strategy", "-s", help="See `decomposer strategies`.")
    ] = pipeline.DEFAULT_STRATEGY,
    services: ServicesOption = None,
    level: LevelOption = Level.class_,
    seed: SeedOption = 0,
    out: Annotated[
        Path, typer.Option("-o", "--out", help="Where to write the proposal.")
    ] = pipeline.PROPOSAL_PATH,
    config: ConfigOption = None,
    constraints: ConstraintsOption = None,
    output_format: FormatOption = Format.text,
    debug: DebugOption = False,
) -> None:
    """Propose services with one strategy and write proposal.json."""
    request = _base_request(graph, strategy, services, level, seed, out, config, constraints)
    _run(
        lambda: pipeline.decompose(request, registry=default_registry()),
        console.render_proposal_summary,
        output_format,
        debug,
    )


@app.command()
def compare(
    graph: Annotated[Path, typer.Argument(help="graph.json written by decomposer analyze.")],
    strategies: Annotated[
        str | None,
        typer.Option("--strategies", help="Comma-separated names (default: all installed)."),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="A known decomposition to measure agreement with."),
    ] = None,
    services: ServicesOption = None,
    level: LevelOption = Level.class_,
    seed: SeedOption = 0,
    out_dir: Annotated[
        Path | None, typer.Option("-o", "--out-dir", help="Write each proposal here.")
    ] = None,
    config: ConfigOption = None,
    constraints: ConstraintsOption = None,
    output_format: FormatOption = Format.text,
    debug: DebugOption = False,
) -> None:
    """Run every strategy on the same graph and compare their metrics side by side."""
    base = _base_request(
        graph, "", services, level, seed, pipeline.PROPOSAL_PATH, config, constraints
    )
    names = tuple(n.strip() for n in (strategies or "").split(",") if n.strip())
    request = pipeline.CompareRequest(base, names, truth, out_dir)
    _run(
        lambda: pipeline.compare(request, registry=default_registry()),
        console.render_comparison,
        output_format,
        debug,
    )


@app.command()
def evaluate(
    graph: Annotated[Path, typer.Argument(help="graph.json written by decomposer analyze.")],
    proposal: Annotated[Path, typer.Argument(help="A proposal.json, edited or not.")],
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Write the re-scored proposal here.")
    ] = None,
    output_format: FormatOption = Format.text,
    debug: DebugOption = False,
) -> None:
    """Re-score a proposal (after editing it by hand): metrics, tables, API, explanations."""
    request = pipeline.EvaluateRequest(graph, proposal, out)
    _run(lambda: pipeline.evaluate(request), console.render_proposal_summary, output_format, debug)


@app.command()
def report(
    graph: Annotated[Path, typer.Argument(help="graph.json written by decomposer analyze.")],
    proposals: Annotated[
        list[Path], typer.Argument(help="proposal.json files; several are compared.")
    ],
    out_dir: Annotated[
        Path, typer.Option("-o", "--out-dir", help="Folder for the report files.")
    ] = Path("report"),
    formats: Annotated[
        str, typer.Option("--format", help="Comma-separated: html, svg, md, json.")
    ] = ",".join(pipeline.REPORT_FORMATS),
    title: Annotated[str, typer.Option("--title", help="Heading of the report.")] = "",
    debug: DebugOption = False,
) -> None:
    """Write reports of one or more proposals: HTML, graphviz SVG, markdown, JSON."""
    request = pipeline.ReportRequest(graph, tuple(proposals), out_dir, _formats(formats), title)
    _run(
        lambda: pipeline.report(request, registry=default_registry()),
        console.render_report_summary,
        Format.text,
        debug,
    )


@app.command("run")
def run_all(
    path: Annotated[Path, typer.Argument(help="The project folder to analyse.")],
    out_dir: Annotated[
        Path, typer.Option("-o", "--out-dir", help="Folder for the graph, proposals, report.")
    ] = pipeline.RUN_DIR,
    strategy: Annotated[
        str | None,
        typer.Option("--strategy", "-s", help="One strategy (default: compare all)."),
    ] = None,
    services: ServicesOption = None,
    level: LevelOption = Level.class_,
    seed: SeedOption = 0,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Re-parse every file.")] = False,
    output_format: FormatOption = Format.text,
    debug: DebugOption = False,
) -> None:
    """Analyse, decompose and report in one go: the first command to run."""
    request = pipeline.RunRequest(
        path, out_dir, strategy, services, level.value, seed, not no_cache
    )

    def action() -> pipeline.Outcome:
        with console.BarProgress() as progress:
            return pipeline.run(request, registry=default_registry(), progress=progress)

    _run(action, console.render_run_summary, output_format, debug)


def _formats(text: str) -> tuple[str, ...]:
    return tuple(f.strip() for f in text.split(",") if f.strip())


@app.command("strategies")
def list_strategies(output_format: FormatOption = Format.text, debug: DebugOption = False) -> None:
    """List the installed strategies."""
    _run(
        lambda: pipeline.list_strategies(default_registry()),
        console.render_strategies,
        output_format,
        debug,
    )


class CheckFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"
    junit = "junit"
    sarif = "sarif"


@app.command("check")
def check_command(
    path: Annotated[
        Path, typer.Argument(help="The project folder, with its tool.decomposer.check settings.")
    ] = Path("."),
    update_baseline: Annotated[
        bool, typer.Option("--update-baseline", help="Accept today's state: rewrite the baseline.")
    ] = False,
    tighten_baseline: Annotated[
        bool,
        typer.Option(
            "--tighten-baseline", help="Drop what is fixed from the baseline, add nothing."
        ),
    ] = False,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="The baseline file (default: the setting).")
    ] = None,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="text, json, github, junit or sarif.")
    ] = CheckFormat.text,
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Write the report to a file, not stdout.")
    ] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=0, help="Worker processes (0: one per core).")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Re-parse every file.")] = False,
    debug: DebugOption = False,
) -> None:
    """Fail (exit 1) when the code adds coupling across the declared service boundaries."""
    overrides = {"jobs": jobs} if jobs is not None else {}
    request = check.CheckRequest(
        path, update_baseline, tighten_baseline, baseline, not no_cache, overrides
    )

    def action() -> pipeline.Outcome:
        with console.BarProgress() as progress:
            return check.check(request, registry=default_registry(), progress=progress)

    def render(summary: dict[str, Any]) -> None:
        check_formats.render(summary, output_format.value, console.stdout, out)

    _run(action, render, Format.text, debug)


TRACERS = "decomposer.tracers"


@app.command("trace")
def trace_command(
    command: Annotated[
        list[str], typer.Argument(help="The command to run, after --: decomposer trace -- pytest")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Where to write the trace.")] = Path(
        "trace.json"
    ),
    source: Annotated[
        list[Path] | None,
        typer.Option(
            "--source",
            help="A folder of project code to record (repeatable; default: ./src or .).",
        ),
    ] = None,
    output_format: FormatOption = Format.text,
    debug: DebugOption = False,
) -> None:
    """Run a Python command with its use cases traced (tests, requests, tasks) into a trace file.

    The command's exit code is passed through.
    """

    def action() -> pipeline.Outcome:
        tracer = Registry(discover([TRACERS])).load(TRACERS, "python")
        return tracer().run(command, out, tuple(source or ()), Path.cwd())

    def render(summary: dict[str, Any]) -> None:
        state = "" if summary["complete"] else " (incomplete: interrupted or not all flushed)"
        console.essential(
            console.stderr,
            f"decomposer trace: wrote {escape(summary['trace'])}: {summary['segments']} use "
            f"cases from {summary['processes']} processes{state}",
        )

    _run(action, render, output_format, debug)


def _run(
    action: Callable[[], pipeline.Outcome],
    render: Callable[[dict[str, Any]], None],
    output_format: Format,
    debug: bool,
) -> None:
    # A command builds graphs of millions of objects that live until it ends, and the cyclic
    # garbage collector would walk them again and again as more are made: a third of
    # decompose's time on 100,000 atoms. Reference counting still frees what is let go; the
    # analysis workers are fresh processes with their own collector.
    gc.disable()
    try:
        outcome = action()
    except DecomposerError as err:
        if debug:
            raise
        console.render_error(err)
        raise typer.Exit(err.exit_code) from None
    except KeyboardInterrupt:
        if debug:
            raise
        # Files are replaced whole (decomposer.files), so whatever was written is complete.
        console.stderr.print("interrupted: files already written are complete, none is half-done")
        raise typer.Exit(INTERRUPTED) from None
    finally:
        if not lifetime.keeps():  # the command line ends without collecting (lifetime.py)
            gc.enable()
    if output_format is Format.json:
        console.render_json(outcome.summary)
    else:
        render(outcome.summary)
    raise typer.Exit(outcome.exit_code)
