"""`decomposer trace` end to end: real interpreters (3.11 through .venv, 3.12 through
.venv312), real pytest runs, real subprocesses and signals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analyzers.runtime.trace_file import read_trace
from tests.conftest import write_tree

REPO = Path(__file__).resolve().parents[2]
PYTHON311 = REPO / ".venv" / "bin" / "python"
PYTHON312 = REPO / ".venv312" / "bin" / "python"

# A project whose top-level package is called `analyzers`, like decomposer's own: the tracer
# must not hide it. `service.run` dispatches through a dict of handlers and `run_by_name`
# through getattr: calls static analysis cannot follow.
PROJECT = {
    "pytest.ini": "[pytest]\npythonpath = .\n",
    "analyzers/__init__.py": """
        def shout(text):
            return text.upper()
    """,
    "app/__init__.py": "",
    "app/handlers.py": """
        from analyzers import shout


        class Greeter:
            def __init__(self, who):
                self.who = who

            def text(self):
                return shout("hello " + self.who)


        def greet(who):
            return shout(Greeter(who).text().lower())  # shout, called from two places


        def part(who):
            return "bye " + who
    """,
    "app/service.py": """
        from app import handlers

        HANDLERS = {"greet": handlers.greet, "part": handlers.part}


        def run(name, arg):
            return HANDLERS[name](arg)


        def run_by_name(name, arg):
            return getattr(handlers, name)(arg)
    """,
    "app/worker.py": """
        from app import service


        def main():
            print(service.run("part", "worker"))


        if __name__ == "__main__":
            main()
    """,
    "tests/test_app.py": """
        import subprocess
        import sys
        from pathlib import Path

        from app import service


        def test_greet():
            assert service.run("greet", "ann") == "HELLO ANN"


        def test_by_name():
            assert service.run_by_name("part", "bo") == "bye bo"


        def test_worker():
            done = subprocess.run(
                [sys.executable, "-m", "app.worker"],
                cwd=Path(__file__).parents[1], capture_output=True, text=True, check=True,
            )
            assert done.stdout == "bye worker\\n"
    """,
}
FAILING_TEST = {
    "tests/test_fails.py": """
        from app import service


        def test_fails():
            assert service.run("part", "x") == "something else"
    """
}
SLOW_TEST = {
    "tests/test_slow.py": """
        import os
        import time
        from pathlib import Path

        from app import service


        def test_slow():
            service.run("greet", "slow")
            Path(os.environ["READY_FILE"]).write_text("started")
            time.sleep(60)
    """
}


# The sample suites need neither; hypothesis's plugin refuses a `.hypothesis` folder left in
# the repository by decomposer's own fuzz tests.
QUIET_PLUGINS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


@pytest.fixture(scope="module")
def python312() -> Path:
    if not PYTHON312.exists():
        pytest.fail(
            f"{PYTHON312} is missing: the tracer's Python 3.12 core is tested through it; "
            "install python3.12 (e.g. with pyenv) and run ./dev install"
        )
    return PYTHON312


def trace(cwd: Path, *command: str | Path, out: str = "trace.json") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "decomposer", "trace", "-o", out, "--", *map(str, command)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def edges(segment: dict) -> set[tuple[str, str, str, str]]:
    return {tuple(row[:4]) for row in segment["calls"]}


def segments(trace_data: dict) -> dict[str, dict]:
    return {s["use_case"]: s for s in trace_data["segments"]}


@pytest.fixture(scope="module")
def project_traces(tmp_path_factory: pytest.TempPathFactory, python312: Path) -> dict[str, dict]:
    """The small project's tests traced once under each core."""
    traces = {}
    for name, python in (("3.11", PYTHON311), ("3.12", python312)):
        root = write_tree(tmp_path_factory.mktemp(f"project{name}"), PROJECT)
        done = trace(root, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests")
        assert done.returncode == 0, done.stdout + done.stderr
        traces[name] = read_trace(root / "trace.json")
    return traces


@pytest.mark.parametrize(
    ("version", "tracer"), [("3.11", "sys.setprofile"), ("3.12", "sys.monitoring")]
)
def test_one_segment_per_test_with_dynamic_calls(
    project_traces: dict[str, dict], version: str, tracer: str
) -> None:
    data = project_traces[version]
    assert data["tracer"] == tracer
    assert data["python"].startswith(version)
    assert data["complete"] is True
    assert data["exit_code"] == 0
    found = segments(data)
    tests = sorted(name for name in found if name.startswith("test:"))
    assert tests == [
        "test:tests/test_app.py::test_by_name",
        "test:tests/test_app.py::test_greet",
        "test:tests/test_app.py::test_worker",
    ]
    greet = edges(found["test:tests/test_app.py::test_greet"])
    assert ("tests/test_app.py", "test_greet", "app/service.py", "run") in greet
    # through the dict of handlers, then into the project's own `analyzers` package
    assert ("app/service.py", "run", "app/handlers.py", "greet") in greet
    assert ("app/handlers.py", "greet", "app/handlers.py", "Greeter.__init__") in greet
    assert ("app/handlers.py", "Greeter.text", "analyzers/__init__.py", "shout") in greet
    assert ("app/handlers.py", "greet", "analyzers/__init__.py", "shout") in greet
    by_name = edges(found["test:tests/test_app.py::test_by_name"])
    assert ("app/service.py", "run_by_name", "app/handlers.py", "part") in by_name
    assert ("app/handlers.py", "greet", "app/handlers.py", "Greeter.__init__") not in by_name


@pytest.mark.parametrize("version", ["3.11", "3.12"])
def test_subprocesses_are_traced(project_traces: dict[str, dict], version: str) -> None:
    data = project_traces[version]
    assert data["processes"] == 2
    process = segments(data)["process:main"]
    assert process["runs"] == 2
    assert ("app/worker.py", "main", "app/service.py", "run") in edges(process)
    assert ("app/service.py", "run", "app/handlers.py", "part") in edges(process)


def test_both_cores_record_the_same_edges(project_traces: dict[str, dict]) -> None:
    by_core = {
        version: {name: edges(s) for name, s in segments(data).items() if name.startswith("test:")}
        for version, data in project_traces.items()
    }
    assert by_core["3.11"] == by_core["3.12"]
    assert len(by_core["3.11"]["test:tests/test_app.py::test_greet"]) == 6


def test_failing_command_passes_its_exit_code_through(tmp_path: Path, python312: Path) -> None:
    root = write_tree(tmp_path, {**PROJECT, **FAILING_TEST})
    done = trace(root, python312, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests")
    assert done.returncode == 1, done.stdout + done.stderr
    data = read_trace(root / "trace.json")
    assert data["exit_code"] == 1
    assert data["complete"] is True
    failing = segments(data)["test:tests/test_fails.py::test_fails"]
    assert ("tests/test_fails.py", "test_fails", "app/service.py", "run") in edges(failing)


def test_interrupted_command_leaves_a_valid_trace(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {**PROJECT, **SLOW_TEST})
    ready = tmp_path / "ready"
    command = [sys.executable, "-m", "decomposer", "trace", "--", str(PYTHON311), "-m", "pytest"]
    process = subprocess.Popen(
        [*command, "-q", "-p", "no:cacheprovider", "tests/test_slow.py"],
        cwd=root,
        env={**os.environ, "READY_FILE": str(ready)},
        stdin=subprocess.DEVNULL,  # no terminal: the signal reaches the command through us
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ready.exists(), "the traced test never started"
    process.send_signal(signal.SIGINT)  # to decomposer only: it passes it on
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 2, output  # pytest's code for an interrupted run
    data = read_trace(root / "trace.json")
    assert data["complete"] is False
    assert data["exit_code"] == 2
    slow = segments(data)["test:tests/test_slow.py::test_slow"]
    assert ("tests/test_slow.py", "test_slow", "app/service.py", "run") in edges(slow)


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ('{"format": "decomposer-trace", "version": 1, "segm', "is not valid JSON"),
        ('{"format": "decomposer-trace", "version": 7}', "has format version 7"),
        ('{"format": "decomposer-trace", "version": 1, "tracer": "x"}', 'has no "python"'),
    ],
)
def test_bad_trace_file_is_one_line_and_exit_2(tmp_path: Path, content: str, complaint: str):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    done = subprocess.run(
        [sys.executable, "-m", "decomposer", "analyze", "sample_monoliths/shop", "--no-history"]
        + ["-o", str(tmp_path / "graph.json"), "--trace", str(bad)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    first = done.stderr.splitlines()[0]
    assert str(bad) in first and complaint in first


@pytest.mark.parametrize(
    ("sample", "package", "python"), [("shop", "shop", "3.12"), ("travel", "travel", "3.11")]
)
def test_sample_suites_give_a_segment_per_test(
    tmp_path: Path, python312: Path, sample: str, package: str, python: str
) -> None:
    interpreter = python312 if python == "3.12" else PYTHON311
    out = tmp_path / "trace.json"
    done = subprocess.run(
        [sys.executable, "-m", "decomposer", "trace", "-o", str(out)]
        + ["--source", f"sample_monoliths/{sample}", "--", str(interpreter), "-m", "pytest"]
        + ["-q", *QUIET_PLUGINS, f"sample_monoliths/{sample}/tests"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    passed = int(re.search(r"(\d+) passed", done.stdout).group(1))
    data = read_trace(out)
    tests = [s for s in data["segments"] if s["kind"] == "test"]
    assert len(tests) == passed
    prefix = f"test:sample_monoliths/{sample}/tests/"
    assert all(s["use_case"].startswith(prefix) and s["runs"] == 1 for s in tests)
    in_package = [
        row
        for s in tests
        for row in s["calls"]
        if row[0].startswith(f"{package}/") and row[2].startswith(f"{package}/")
    ]
    assert len({tuple(row[:4]) for row in in_package}) > 20
    json.dumps(data)  # plain JSON all through


def test_use_case_blocks_become_segments(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "jobs.py": """
                import decomposer


                def charge():
                    return 1


                def ship():
                    return charge()


                @decomposer.use_case("nightly")
                def nightly():
                    return ship()


                with decomposer.use_case("checkout"):
                    charge()
                nightly()
                nightly()
            """
        },
    )
    done = trace(root, PYTHON311, "jobs.py")
    assert done.returncode == 0, done.stdout + done.stderr
    found = segments(read_trace(root / "trace.json"))
    assert sorted(found) == ["custom:checkout", "custom:nightly", "process:main"]
    assert edges(found["custom:checkout"]) == {("jobs.py", "<module>", "jobs.py", "charge")}
    assert found["custom:nightly"]["runs"] == 2
    assert edges(found["custom:nightly"]) == {
        ("jobs.py", "nightly", "jobs.py", "ship"),
        ("jobs.py", "ship", "jobs.py", "charge"),
    }


def test_the_users_sitecustomize_still_runs(tmp_path: Path) -> None:
    site_dir = write_tree(
        tmp_path / "site",
        {"sitecustomize.py": "import os\nos.environ['SITE_CUSTOMIZED'] = 'yes'\n"},
    )
    root = write_tree(
        tmp_path / "project", {"main.py": "import os\nprint(os.environ.get('SITE_CUSTOMIZED'))\n"}
    )
    done = subprocess.run(
        [sys.executable, "-m", "decomposer", "trace", "--", str(PYTHON311), "main.py"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(site_dir)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "yes\n"
    data = read_trace(root / "trace.json")
    assert data["processes"] == 1 and data["complete"] is True
