"""`decomposer run` and `decomposer report` through the real CLI: what they write, what they
print, their exit codes, atomic writes, `--quiet` and NO_COLOR."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Self

import pytest
from typer.testing import CliRunner

from decomposer import pipeline
from decomposer.cli import app
from decomposer.model.graph_json import SCHEMA
from decomposer.plugins import STRATEGIES, default_registry

SAMPLE = "sample_monoliths/travel"  # the smallest sample
SGR = re.compile(r"\x1b\[[0-9;]*m")  # colour and style codes


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One `decomposer run` of the travel sample: its output folder and what it printed."""
    out = tmp_path_factory.mktemp("run") / "travel"
    result = invoke("run", SAMPLE, "-o", out, "--no-cache")
    assert result.exit_code == 0, result.output
    return out, result.output


def test_run_writes_the_graph_and_a_proposal_per_strategy(ran: tuple[Path, str]) -> None:
    out, printed = ran
    assert json.loads((out / "graph.json").read_text())["schema"] == SCHEMA
    strategies = default_registry().names(STRATEGIES)
    written = sorted(p.stem for p in (out / "proposals").glob("*.json"))
    assert written == strategies, printed  # a strategy that failed says why in the output
    for name in strategies:
        proposal = json.loads((out / "proposals" / f"{name}.json").read_text())
        assert proposal["strategy"] == name and proposal["services"]


def test_run_writes_every_report_and_says_where_it_is(ran: tuple[Path, str]) -> None:
    out, printed = ran
    for name in ("report.html", "report.md", "report.json"):
        assert (out / name).is_file(), name
    assert list(out.rglob("*.dot")), "the graphviz report writes .dot files even without dot"
    report = json.loads((out / "report.json").read_text())
    featured = [p["strategy"] for p in report["proposals"]]
    assert featured[0] == pipeline.DEFAULT_STRATEGY
    assert sorted(featured) == default_registry().names(STRATEGIES), printed
    assert f"Report: {out / 'report.html'}" in printed.replace("\n", "")
    assert not list(out.rglob("*.partial"))


def test_report_renders_the_proposals_it_is_given(ran: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = ran
    proposals = sorted((out / "proposals").glob("*.json"))[:2]
    result = invoke(
        "report", out / "graph.json", *proposals, "-o", tmp_path, "--format", "md,json"
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.md"]
    assert f"Report: {tmp_path / 'report.md'}" in result.output.replace("\n", "")
    report = json.loads((tmp_path / "report.json").read_text())
    assert [p["strategy"] for p in report["proposals"]] == [p.stem for p in proposals]
    assert report["title"] == "travel"  # the analysed folder, from the graph's location


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "no/such/folder"], "does not exist"),
        (["report", "no/such/graph.json", "p.json"], "does not exist"),
        (["report", "{graph}", "{proposal}", "--format", "md,nope"], "unknown report format"),
        (["report", "{graph}", "{proposal}", "--format", "pdf"], "unknown report format 'pdf'"),
    ],
)
def test_bad_input_exits_with_2_and_a_message(
    ran: tuple[Path, str], tmp_path: Path, args: list[str], message: str
) -> None:
    out, _ = ran
    fill = {"graph": out / "graph.json", "proposal": out / "proposals" / "structural.json"}
    args = [a.format(**fill) for a in args] + ["-o", str(tmp_path / "out")]
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "out" / "report.md").exists()  # nothing rendered before the check


# -- atomic writes -----------------------------------------------------------------------------


@pytest.fixture
def report_request(ran: tuple[Path, str], tmp_path: Path) -> pipeline.ReportRequest:
    out, _ = ran
    request = pipeline.ReportRequest(
        out / "graph.json", (out / "proposals" / "structural.json",), tmp_path, ("md", "json")
    )
    pipeline.report(request, registry=default_registry())  # a previous, complete report
    return request


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_a_write_interrupted_halfway_leaves_the_previous_report_whole(
    report_request: pipeline.ReportRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(report_request.out_dir)
    real_open = Path.open

    class HalfThenInterrupt:
        """A file opened for writing that takes half of the first text, then gets Ctrl-C."""

        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def __enter__(self) -> Self:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, text: str) -> int:
            self.handle.write(text[: len(text) // 2])
            self.handle.flush()
            raise KeyboardInterrupt

    def open_interrupted(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, mode, *args, **kwargs)
        return HalfThenInterrupt(handle) if "w" in mode else handle

    monkeypatch.setattr(Path, "open", open_interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.report(report_request, registry=default_registry())
    monkeypatch.undo()
    assert _snapshot(report_request.out_dir) == before
    assert not list(report_request.out_dir.glob("*.partial"))


def test_a_report_plugin_that_fails_leaves_no_half_file(
    report_request: pipeline.ReportRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reports.markdown

    before = _snapshot(report_request.out_dir)

    def broken(*args: object) -> str:
        raise RuntimeError("a bug in the markdown report")

    monkeypatch.setattr(reports.markdown, "render_markdown", broken)
    with pytest.raises(RuntimeError):
        pipeline.report(report_request, registry=default_registry())
    assert _snapshot(report_request.out_dir) == before
    assert not list(report_request.out_dir.glob("*.partial"))


def test_a_file_that_cannot_be_written_is_an_error_and_the_old_one_stays(
    report_request: pipeline.ReportRequest,
) -> None:
    # The temporary file's name taken by a folder: the write fails as on a full or read-only
    # disk (chmod would not stop root, who runs CI containers).
    (report_request.out_dir / "report.md.partial").mkdir()
    before = (report_request.out_dir / "report.md").read_bytes()
    result = invoke(
        "report",
        report_request.graph,
        *report_request.proposals,
        "-o",
        report_request.out_dir,
        "--format",
        "md",
    )
    assert result.exit_code == 2, result.output
    assert "cannot write" in result.output and "report.md" in result.output
    assert (report_request.out_dir / "report.md").read_bytes() == before


# -- --quiet and NO_COLOR ----------------------------------------------------------------------


def test_quiet_prints_only_where_the_results_are(tmp_path: Path) -> None:
    graph = tmp_path / "graph.json"
    loud = invoke("analyze", SAMPLE, "-o", graph, "--no-cache")
    assert "Analysed" in loud.output
    quiet = invoke("-q", "analyze", SAMPLE, "-o", graph)
    assert quiet.exit_code == 0
    assert quiet.output.strip() == f"Graph written to {graph}"
    proposal = tmp_path / "p.json"
    quiet = invoke("--quiet", "decompose", graph, "-s", "structural", "-k", "3", "-o", proposal)
    assert quiet.output.strip() == f"Proposal written to {proposal}"
    quiet = invoke("-q", "report", graph, proposal, "-o", tmp_path / "r", "--format", "md")
    assert quiet.output.strip() == f"Report: {tmp_path / 'r' / 'report.md'}"
    # --format json is the result itself: never silenced
    quiet = invoke("-q", "decompose", graph, "-s", "structural", "-k", "3", "-o", proposal,
                   "--format", "json")  # fmt: skip
    assert json.loads(quiet.output)["strategy"] == "structural"
    # the next command without -q is loud again (one process, several invocations)
    assert (
        "services at the class level"
        in invoke("decompose", graph, "-s", "structural", "-k", "3", "-o", proposal).output
    )


def test_quiet_still_shows_errors() -> None:
    result = invoke("-q", "analyze", "no/such/folder")
    assert result.exit_code == 2 and "does not exist" in result.output


def _decomposer(*args: object, **env: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh process: the consoles read NO_COLOR when they are created."""
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "decomposer", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        env=environ | {"COLUMNS": "120"} | env,
        timeout=300,
    )


def test_no_color_means_no_style_codes_even_on_a_forced_terminal(
    ran: tuple[Path, str], tmp_path: Path
) -> None:
    out, _ = ran
    args = ("decompose", out / "graph.json", "-s", "structural", "-k", "3")
    args += ("-o", tmp_path / "p.json")  # type: ignore[assignment]
    coloured = _decomposer(*args, FORCE_COLOR="1")
    assert coloured.returncode == 0, coloured.stderr
    assert SGR.search(coloured.stdout), "FORCE_COLOR should give styles (else the test is void)"
    plain = _decomposer(*args, FORCE_COLOR="1", NO_COLOR="1")
    assert plain.returncode == 0, plain.stderr
    assert "\x1b" not in plain.stdout
    assert "Proposal written to" in plain.stdout
    failed = _decomposer("analyze", "no/such/folder", FORCE_COLOR="1", NO_COLOR="1")
    assert failed.returncode == 2
    assert "error:" in failed.stderr and not SGR.search(failed.stderr)


def test_a_graph_kept_in_an_older_format_is_not_reused(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "travel"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns(".decomposer"))
    args = ("analyze", root, "-o", tmp_path / "graph.json", "--format", "json")
    assert json.loads(invoke(*args).output)["reused_last_run"] is False
    assert json.loads(invoke(*args).output)["reused_last_run"] is True
    monkeypatch.setattr(pipeline, "GRAPH_SCHEMA", SCHEMA + 1)
    assert json.loads(invoke(*args).output)["reused_last_run"] is False
