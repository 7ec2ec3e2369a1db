"""Ctrl-C, as a real SIGINT to a real `decomposer` process in the middle of its work: exit code
130 and one line on stderr, no half-written output and no temporary file left behind, and a
cache a following run can trust (it gives the graph a clean run gives).

A SIGINT to the main process alone is what `kill -INT` does; Ctrl-C in a terminal sends it to
the whole process group, the parsing workers included. Both are tested."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from decomposer.plugins import STRATEGIES, default_registry

INTERRUPTED = 130
#: Long enough for the work to be well under way when the signal comes, on any machine.
DEADLINE = 600


def decomposer(*args: object, **popen: object) -> subprocess.Popen[bytes]:
    """A `decomposer` process whose stderr looks like a terminal's (FORCE_COLOR), so that it
    shows its progress bars."""
    env = os.environ | {"FORCE_COLOR": "1", "COLUMNS": "120", "NO_COLOR": ""}
    return subprocess.Popen(
        [sys.executable, "-m", "decomposer", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        **popen,  # type: ignore[arg-type]
    )


def completed(*args: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "decomposer", "-q", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def wait_until(ready: Callable[[], bool], proc: subprocess.Popen[bytes]) -> None:
    started = time.monotonic()
    while not ready():
        assert proc.poll() is None, "the command ended before it could be interrupted"
        assert time.monotonic() - started < DEADLINE, "the command never got under way"
        time.sleep(0.02)


def stderr_shows(proc: subprocess.Popen[bytes], text: bytes) -> Callable[[], bool]:
    """A check that reads what the process has written to stderr so far."""
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), False)
    seen = bytearray()

    def check() -> bool:
        seen.extend(proc.stderr.read() or b"")  # type: ignore[union-attr]
        return text in seen

    return check


def interrupt(proc: subprocess.Popen[bytes], *, group: bool) -> str:
    """Send SIGINT (to the process, or to its process group like a terminal's Ctrl-C) and
    return what it printed on stderr afterwards."""
    if group:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), True)
    _, err = proc.communicate(timeout=DEADLINE)
    assert proc.returncode == INTERRUPTED, err.decode(errors="replace")
    return err.decode(errors="replace")


def assert_one_line_said_so(err: str) -> None:
    assert "Traceback" not in err, err
    lines = [line for line in err.split("\n") if "interrupted" in line]
    assert len(lines) == 1, err


def partial_files(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if p.name.endswith(".partial")]


@pytest.fixture(scope="module")
def monolith(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A generated monolith big enough to take seconds to analyse, and its graph from a clean
    (uncached) run."""
    base = tmp_path_factory.mktemp("interrupt")
    root = base / "monolith"
    subprocess.run(
        [sys.executable, "-m", "sample_monoliths.synthetic", str(root), "--modules", "200"],
        capture_output=True,
        check=True,
    )
    graph = base / "clean.json"
    completed("analyze", root, "-o", graph, "--no-cache")
    return root, graph.read_bytes()


@pytest.mark.parametrize("group", [False, True], ids=["kill -INT", "Ctrl-C to the group"])
def test_interrupted_analyze_leaves_the_old_graph_and_a_sound_cache(
    monolith: tuple[Path, bytes], tmp_path: Path, group: bool
) -> None:
    clean_root, clean_graph = monolith
    root = tmp_path / "monolith"
    subprocess.run(["cp", "-r", str(clean_root), str(root)], check=True)
    out = tmp_path / "graph.json"
    out.write_bytes(b"the previous graph\n")
    proc = decomposer("analyze", root, "-o", out, start_new_session=True)
    wait_until(stderr_shows(proc, b"analysing files"), proc)
    time.sleep(0.5)  # some files parsed and cached, most not
    assert_one_line_said_so(interrupt(proc, group=group))
    assert out.read_bytes() == b"the previous graph\n"
    assert not partial_files(tmp_path)
    # The next run trusts what the cache holds, and ends with the graph of a clean run.
    again = json.loads(completed("analyze", root, "-o", out, "--format", "json").stdout)
    assert again["reused_last_run"] is False
    assert out.read_bytes() == clean_graph


@pytest.fixture(scope="module")
def report_inputs(
    monolith: tuple[Path, bytes], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, dict[str, bytes]]:
    """The monolith's graph, a proposal of it, and the report files a complete run writes."""
    _, clean_graph = monolith
    base = tmp_path_factory.mktemp("report")
    graph, proposal = base / "graph.json", base / "proposal.json"
    graph.write_bytes(clean_graph)
    completed("decompose", graph, "-s", "structural", "-o", proposal)
    completed("report", graph, proposal, "-o", base / "reference", "--title", "t")
    reference = {p.name: p.read_bytes() for p in (base / "reference").iterdir()}
    return graph, proposal, reference


def test_interrupted_report_leaves_only_whole_files(
    report_inputs: tuple[Path, Path, dict[str, bytes]], tmp_path: Path
) -> None:
    graph, proposal, reference = report_inputs
    out = tmp_path / "report"
    proc = decomposer("report", graph, proposal, "-o", out, "--title", "t")
    wait_until(out.exists, proc)  # made just before the first report is rendered
    assert_one_line_said_so(interrupt(proc, group=False))
    assert not partial_files(tmp_path)
    written = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(written) < len(reference), "interrupted before the end"
    for name, data in written.items():
        assert data == reference[name], f"{name} is not the whole file"


def test_interrupted_run_leaves_only_whole_files(
    monolith: tuple[Path, bytes], tmp_path: Path
) -> None:
    clean_root, clean_graph = monolith
    out = tmp_path / "out"
    proc = decomposer("run", clean_root, "-o", out, "--no-cache")
    proposals = out / "proposals"
    strategies = len(default_registry().names(STRATEGIES))
    # Every proposal written: the reports are being rendered.
    wait_until(lambda: proposals.exists() and len(list(proposals.iterdir())) == strategies, proc)
    assert_one_line_said_so(interrupt(proc, group=False))
    assert not partial_files(tmp_path, clean_root)
    assert (out / "graph.json").read_bytes() == clean_graph
    for path in out.rglob("*"):
        if path.suffix == ".json":
            json.loads(path.read_text())  # whole: a JSON file cut short would not parse
        elif path.suffix in ENDINGS:
            assert path.read_text().rstrip().endswith(ENDINGS[path.suffix]), path


#: How each kind of report file ends when it is whole.
ENDINGS = {".html": "</html>", ".svg": "</svg>", ".dot": "}"}


def test_ctrl_c_while_the_command_starts_is_exit_130_without_a_traceback() -> None:
    # A real Ctrl-C at start-up lands while Python imports the command's libraries: raised
    # here from the import of typer, so that it lands there every time.
    code = """\
import builtins, sys
real = builtins.__import__
def interrupted(name, *args, **kwargs):
    if name == "typer":
        raise KeyboardInterrupt
    return real(name, *args, **kwargs)
builtins.__import__ = interrupted
sys.argv = ["decomposer", "--help"]
from decomposer.__main__ import main
main()
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert (done.returncode, done.stderr) == (INTERRUPTED, "interrupted\n")
