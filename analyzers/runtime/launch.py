"""`decomposer trace -- COMMAND`: run a command with every Python process in it traced, then
merge the processes' partial files into one trace.json (docs/trace-format.md).

Each process the command starts finds `bootstrap/sitecustomize.py` first on PYTHONPATH, so
it traces itself (recorder.py) and appends its segments to a partial file of its own in a
temporary folder. Here the statements are parsed into tables (with the static analysis's SQL
reader), segments of the same use case are merged, and the trace is written atomically.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from analyzers.runtime.recorder import ENV_DIR, ENV_ROOTS
from analyzers.runtime.trace_file import new_trace, write_trace
from analyzers.static import sql
from analyzers.static.discovery import find_source_roots
from decomposer.errors import InputError
from decomposer.pipeline import Outcome

BOOTSTRAP_DIR = Path(__file__).resolve().parent / "bootstrap"


class PythonTracer:
    """Runs a command under the Python tracer (entry point `decomposer.tracers: python`)."""

    name = "python"
    summary = "Python call edges, functions and SQL per use case, in every process."

    def run(
        self, command: Sequence[str], out: Path, sources: Sequence[Path], cwd: Path
    ) -> Outcome:
        """Run `command` traced, write the trace to `out`; the exit code is the command's."""
        if not command:
            raise InputError(
                "no command to trace", hint="put it after --: decomposer trace -- pytest -q"
            )
        roots = _source_roots(sources, cwd)
        partial_dir = Path(tempfile.mkdtemp(prefix="decomposer-trace-"))
        try:
            tables = _TableReader()
            with _StatementWatcher(partial_dir, tables):
                exit_code, interrupted = _run_command(
                    list(command), _environment(roots, partial_dir)
                )
            trace = merge_partials(
                partial_dir, list(command), exit_code, roots, interrupted, tables
            )
        finally:
            shutil.rmtree(partial_dir, ignore_errors=True)
        write_trace(out, trace)
        summary = {
            "trace": str(out),
            "segments": len(trace["segments"]),
            "processes": trace["processes"],
            "complete": trace["complete"],
            "exit_code": exit_code,
        }
        return Outcome(exit_code, summary)


def _source_roots(sources: Sequence[Path], cwd: Path) -> list[str]:
    if not sources:
        return [str(root.resolve()) for root in find_source_roots(cwd)]
    for source in sources:
        if not source.is_dir():
            raise InputError(
                f"source root {source} is not a folder",
                hint="pass --source with the folder that holds your top-level packages",
            )
    return [str(source.resolve()) for source in sources]


def _environment(roots: list[str], partial_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env[ENV_DIR] = str(partial_dir)
    env[ENV_ROOTS] = os.pathsep.join(roots)
    paths = [str(BOOTSTRAP_DIR)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _run_command(command: list[str], env: dict[str, str]) -> tuple[int, bool]:
    """The command's exit code (128 + N when signal N ended it), and whether we were
    interrupted (Ctrl-C or SIGTERM, passed on to the command, which then finishes itself)."""
    # Ctrl-C in a terminal reaches the command's processes too when they share its
    # foreground process group: passing it on would interrupt their clean-up a second time.
    terminal_interrupts_too = _in_terminal_foreground()
    try:
        process = subprocess.Popen(command, env=env)
    except OSError as exc:
        raise InputError(
            f"cannot run {command[0]}: {exc.strerror or exc}",
            hint="check the command after --; it runs as it would in your shell's PATH",
        ) from exc
    interrupted = []

    def forward(signum: int, frame: FrameType | None) -> None:
        interrupted.append(signum)
        if signum == signal.SIGINT and terminal_interrupts_too:
            return
        if process.poll() is None:
            process.send_signal(signum)

    with _signals_forwarded(forward):
        code = process.wait()
    return (code if code >= 0 else 128 - code), bool(interrupted)


def _in_terminal_foreground() -> bool:
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError, AttributeError):  # no terminal, or stdin closed or replaced
        return False


@contextmanager
def _signals_forwarded(handler: Any) -> Iterator[None]:
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# Merging the partial files ---------------------------------------------------------------


@dataclass
class _Merged:
    """One use case's segments from every process and run."""

    kind: str
    runs: int = 0
    calls: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    functions: Counter[tuple[str, str]] = field(default_factory=Counter)
    sql: Counter[tuple[str, tuple[int, int] | None]] = field(default_factory=Counter)
    # (process, transaction in that process) -> outcome
    outcomes: dict[tuple[int, int], str] = field(default_factory=dict)


def merge_partials(
    partial_dir: Path,
    command: list[str],
    exit_code: int | None,
    roots: list[str],
    interrupted: bool,
    tables: _TableReader | None = None,
) -> dict[str, Any]:
    """The trace of every partial file in `partial_dir`."""
    merged: dict[str, _Merged] = {}
    headers: list[dict[str, Any]] = []
    complete = not interrupted
    for number, path in enumerate(sorted(partial_dir.glob("*.jsonl"))):
        header, ended = _read_partial(path, number, merged)
        if header is not None:
            headers.append(header)
        complete = complete and ended
    first = min(headers, key=lambda h: h.get("started", 0), default={})
    tables = tables or _TableReader()
    return new_trace(
        str(first.get("tracer", "")),
        [_segment(name, merged[name], tables) for name in sorted(merged)],
        python=str(first.get("python", "")),
        command=command,
        exit_code=exit_code,
        complete=complete,
        source_roots=roots,
        processes=len(headers),
    )


def _read_partial(
    path: Path, number: int, merged: dict[str, _Merged]
) -> tuple[dict[str, Any] | None, bool]:
    """Add one process's segments to `merged`; its header and whether it finished its file
    (a killed process leaves no end line, maybe half a last line)."""
    header, ended, broken = None, False, False
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            broken = True
            continue
        if "process" in record:
            header = record["process"]
        elif "segment" in record:
            _add_segment(record["segment"], number, merged)
        elif record.get("end"):
            ended = True
    return header, ended and not broken


def _add_segment(rows: dict[str, Any], process: int, merged: dict[str, _Merged]) -> None:
    target = merged.setdefault(rows["use_case"], _Merged(rows["kind"]))
    target.runs += 1
    for *key, n in rows["calls"]:
        target.calls[tuple(key)] += n
    for *key, n in rows["functions"]:
        target.functions[tuple(key)] += n
    for statement, transaction, n in rows["sql"]:
        target.sql[(statement, None if transaction is None else (process, transaction))] += n
    for transaction, outcome in rows["transactions"]:
        target.outcomes[(process, transaction)] = outcome


class _TableReader:
    """Tables each statement reads and writes, parsed once per distinct statement."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[list[str], list[str]]] = {}

    def __call__(self, statement: str) -> tuple[list[str], list[str]]:
        if statement not in self._seen:
            summary = sql.summarize(statement)
            self._seen[statement] = (summary.get("r", []), summary.get("w", []))
        return self._seen[statement]


class _StatementWatcher:
    """Parses the statements the processes record while the command runs, when this process
    would otherwise sit idle, so that the merge at the end finds them parsed."""

    def __init__(self, partial_dir: Path, tables: _TableReader) -> None:
        self._dir = partial_dir
        self._tables = tables
        self._read: dict[Path, int] = {}  # bytes of each partial file read so far
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> None:
        self._thread.start()

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            for path in sorted(self._dir.glob("*.jsonl")):
                for line in self._new_lines(path):
                    if self._stopping.is_set():
                        return
                    self._parse_statements(line)

    def _new_lines(self, path: Path) -> list[bytes]:
        start = self._read.get(path, 0)
        try:
            with path.open("rb") as partial:
                partial.seek(start)
                chunk = partial.read()
        except OSError:
            return []
        whole = chunk.rfind(b"\n") + 1  # a line still being written waits for the next look
        self._read[path] = start + whole
        return chunk[:whole].splitlines()

    def _parse_statements(self, line: bytes) -> None:
        try:
            segment = json.loads(line).get("segment") or {}
        except ValueError:
            return
        for statement, _, _ in segment.get("sql", ()):
            self._tables(statement)


def _segment(use_case: str, merged: _Merged, tables: _TableReader) -> dict[str, Any]:
    # Every run of a use case has transactions of its own; alike ones (same outcome, same
    # tables) become one, numbered in a stable order, so repeated runs do not pile up.
    touched: dict[tuple[int, int], tuple[set[str], set[str]]] = {
        key: (set(), set()) for key in merged.outcomes
    }
    for statement, transaction in merged.sql:
        if transaction is not None:
            reads, writes = tables(statement)
            seen = touched.setdefault(transaction, (set(), set()))
            seen[0].update(reads)
            seen[1].update(writes)
    shapes = {
        key: (merged.outcomes.get(key, "open"), tuple(sorted(r)), tuple(sorted(w)))
        for key, (r, w) in touched.items()
    }
    numbers = {shape: n for n, shape in enumerate(sorted(set(shapes.values())), start=1)}
    statements: Counter[tuple[str, int | None]] = Counter()
    for (statement, transaction), n in merged.sql.items():
        statements[(statement, None if transaction is None else numbers[shapes[transaction]])] += n
    sql_rows = []
    for (statement, number), n in sorted(statements.items(), key=lambda i: (i[0][1] or 0, i[0])):
        reads, writes = tables(statement)
        sql_rows.append(
            {
                "statement": statement,
                "count": n,
                "reads": reads,
                "writes": writes,
                "transaction": number,
            }
        )
    return {
        "use_case": use_case,
        "kind": merged.kind,
        "runs": merged.runs,
        "calls": [[*key, n] for key, n in sorted(merged.calls.items())],
        "functions": [[*key, n] for key, n in sorted(merged.functions.items())],
        "sql": sql_rows,
        "transactions": [
            {"id": n, "outcome": outcome, "reads": list(reads), "writes": list(writes)}
            for (outcome, reads, writes), n in sorted(numbers.items(), key=lambda i: i[1])
        ],
    }
