"""The tracer inside a traced process: segments, call edges, SQL, and the partial file.

Standard library only: this module runs in the traced process, possibly under another
interpreter where decomposer's dependencies are not installed (see the package docstring).

What is recorded goes into the innermost open *segment* (one use case run: a test, a
request, a task, a `decomposer.use_case` block) of the current thread; threads without a
segment of their own record into the main thread's innermost one. Below every other segment
lies the process's own, `process:main`. Each segment is appended to this process's partial
file when it ends, so a killed process loses only what was still open; the parent
`decomposer trace` merges the partial files into trace.json (docs/trace-format.md).

The public functions below are the integrations' API (`integrations.py`); all of them are
cheap no-ops while no tracer runs.

Two tracer cores, picked in `_start_core` only:
- Python 3.12+: `sys.monitoring`. PY_START records a project function (and the frame that
  called it) once per segment and switches CALL events on in that function's code only;
  CALL records the edge from a project call site to the project function it calls, then
  returns DISABLE for that site. Code outside the source roots gets DISABLE at its first
  PY_START, so it costs one callback per segment. `restart_events()` at each segment
  boundary switches everything on again, so each segment sees its own edges.
- Python 3.11: `sys.setprofile`, counting every call of project code.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from functools import partial
from itertools import count
from types import FunctionType, MethodType

#: The name this module is known by in a traced process; `decomposer.use_case` looks it up
#: in sys.modules (the core never imports the analyzers by name).
TRACER_MODULE = "_decomposer_runtime.recorder"
#: Set by `decomposer trace` for every process it starts.
ENV_DIR = "DECOMPOSER_TRACE_DIR"  # where each process writes its partial file
ENV_ROOTS = "DECOMPOSER_TRACE_ROOTS"  # the source roots, os.pathsep-separated

_PACKAGE_DIR = os.path.dirname(os.path.realpath(__file__))
_UNSEEN = object()
# Folders inside a source root whose code is not the project's: installed packages,
# virtualenvs and tool caches (".venv", ".tox"), bytecode.
_FOREIGN_DIRS = ("site-packages", "dist-packages", "__pycache__", "node_modules")

_tracer: _Tracer | None = None
_transaction_ids = count(1)


class Segment:
    """What one run of a use case recorded. Code objects are keyed by id() (cheap to hash;
    the tracer keeps each one alive, so an id is never reused while it is a key)."""

    __slots__ = ("calls", "functions", "kind", "label", "sql", "transactions")

    def __init__(self, kind: str, label: str) -> None:
        self.kind = kind
        self.label = label
        self.calls: dict[tuple[int, int], int] = {}
        self.functions: dict[int, int] = {}
        self.sql: dict[tuple[str, int | None], int] = {}
        self.transactions: set[int] = set()

    def clear(self) -> None:
        self.calls.clear()
        self.functions.clear()
        self.sql.clear()
        self.transactions.clear()


# The integrations' API ------------------------------------------------------------------


def active() -> bool:
    """Is a tracer running in this process?"""
    return _tracer is not None


def begin_segment(kind: str, label: str) -> object:
    """Open a segment for use case `kind:label`; it records until `end_segment(token)`.
    Segments nest: the innermost open one of the thread records."""
    tracer = _tracer
    if tracer is None:
        return None
    return tracer.begin(kind, label)


def end_segment(token: object) -> None:
    """Close the segment `begin_segment` returned and append it to the partial file."""
    tracer = _tracer
    if tracer is not None and isinstance(token, Segment):
        tracer.end(token)


def record_sql(statement: str, transaction: int | None) -> None:
    """One executed statement (raw text), into the innermost open segment."""
    tracer = _tracer
    if tracer is None:
        return
    sql = tracer.current().sql
    key = (statement, transaction)
    sql[key] = sql.get(key, 0) + 1


def end_transaction(transaction: int, outcome: str) -> None:
    """Transaction `transaction` ended with `outcome`: "commit" or "rollback"."""
    tracer = _tracer
    if tracer is None:
        return
    tracer.outcomes[transaction] = outcome
    tracer.current().transactions.add(transaction)


def new_transaction_id() -> int:
    """An id for a transaction, unique in this process."""
    return next(_transaction_ids)


# Starting and stopping ------------------------------------------------------------------


def start(roots: list[str], out_dir: str) -> None:
    """Trace this process: record code under `roots` into a partial file in `out_dir`."""
    global _tracer
    if _tracer is not None:
        return
    sys.modules.setdefault(TRACER_MODULE, sys.modules[__name__])
    _tracer = _Tracer(roots, out_dir)
    _tracer.start_core()
    atexit.register(stop)
    os.register_at_fork(after_in_child=_after_fork)


def start_from_environment() -> bool:
    """`start` with the settings `decomposer trace` put in the environment, if any."""
    out_dir = os.environ.get(ENV_DIR)
    roots = os.environ.get(ENV_ROOTS)
    if not out_dir or not roots:
        return False
    start(roots.split(os.pathsep), out_dir)
    return True


def stop() -> None:
    """Stop recording, close every open segment and finish the partial file."""
    global _tracer
    tracer = _tracer
    if tracer is None:
        return
    _tracer = None
    tracer.stop_core()
    tracer.finish()


def _after_fork() -> None:
    """A forked child records into a partial file of its own, from an empty slate; it
    finishes that file even when it leaves through os._exit (as multiprocessing does)."""
    tracer = _tracer
    if tracer is None:
        return
    tracer.forked()
    real_exit = os._exit

    def _exit(status: int) -> None:
        stop()
        real_exit(status)

    os._exit = _exit  # type: ignore[assignment]


# The tracer -----------------------------------------------------------------------------


class _Tracer:
    def __init__(self, roots: list[str], out_dir: str) -> None:
        # Longest first: a file belongs to the innermost root that holds it.
        self.roots = sorted({os.path.realpath(r) for r in roots if r}, key=len, reverse=True)
        self.out_dir = out_dir
        self.files: dict[str, str | None] = {}  # co_filename -> path in its root, or None
        self.codes: dict[int, object] = {}  # id -> code object, kept alive
        self.outcomes: dict[int, str] = {}  # transaction -> commit / rollback
        self.process = Segment("process", "main")
        self.main_stack: list[Segment] = [self.process]
        self.stacks: dict[int, list[Segment]] = {threading.get_ident(): self.main_stack}
        self.lock = threading.Lock()
        self.core = "sys.monitoring" if sys.version_info >= (3, 12) else "sys.setprofile"
        self.tool_id: int | None = None
        self.path = ""
        self._open_file()

    # Segments

    def current(self) -> Segment:
        stack = self.stacks.get(threading.get_ident()) or self.main_stack
        return stack[-1]

    def begin(self, kind: str, label: str) -> Segment:
        segment = Segment(kind, label)
        with self.lock:
            self.stacks.setdefault(threading.get_ident(), []).append(segment)
        self._restart()
        return segment

    def end(self, segment: Segment) -> None:
        with self.lock:
            for ident, stack in list(self.stacks.items()):
                if segment in stack:
                    stack.remove(segment)
                    if not stack and stack is not self.main_stack:
                        del self.stacks[ident]
                    break
            else:
                return  # ended twice
        self._restart()
        self._write({"segment": self.rows(segment)})

    def finish(self) -> None:
        open_segments = [s for stack in self.stacks.values() for s in stack]
        for segment in open_segments:
            if segment is not self.process:
                self._write({"segment": self.rows(segment)})
        self._write({"segment": self.rows(self.process)})
        self._write({"end": True})

    def forked(self) -> None:
        for stack in self.stacks.values():
            for segment in stack:
                segment.clear()
        ident = threading.get_ident()
        self.stacks = {ident: self.stacks.get(ident) or self.main_stack}
        self.lock = threading.Lock()
        self._open_file()

    # Rows of the partial file

    def rows(self, segment: Segment) -> dict[str, object]:
        """A segment as JSON rows: code objects become [file in its root, co_qualname]."""
        calls: dict[tuple[str, str, str, str], int] = {}
        for (caller, callee), n in list(segment.calls.items()):
            key = (*self._name(caller), *self._name(callee))
            calls[key] = calls.get(key, 0) + n
        functions: dict[tuple[str, str], int] = {}
        for code, n in list(segment.functions.items()):
            name = self._name(code)
            functions[name] = functions.get(name, 0) + n
        transactions = {t for _, t in segment.sql if t is not None} | segment.transactions
        return {
            "use_case": f"{segment.kind}:{segment.label}",
            "kind": segment.kind,
            "calls": [[*k, n] for k, n in calls.items()],
            "functions": [[*k, n] for k, n in functions.items()],
            "sql": [[s, t, n] for (s, t), n in list(segment.sql.items())],
            "transactions": [[t, self.outcomes.get(t, "open")] for t in sorted(transactions)],
        }

    def _name(self, code_id: int) -> tuple[str, str]:
        code = self.codes[code_id]
        return self.files[code.co_filename] or "", code.co_qualname  # type: ignore[attr-defined]

    def _open_file(self) -> None:
        os.makedirs(self.out_dir, exist_ok=True)
        self.path = os.path.join(self.out_dir, f"{os.getpid()}-{time.time_ns()}.jsonl")
        header = {
            "pid": os.getpid(),
            "python": ".".join(map(str, sys.version_info[:3])),
            "tracer": self.core,
            "argv": list(sys.argv),
            "started": time.time(),
        }
        self._write({"process": header})

    def _write(self, record: dict[str, object]) -> None:
        # One line per record, appended whole: a killed process leaves at most a broken
        # last line, which the parent skips.
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self.lock, open(self.path, "a", encoding="utf-8") as out:
            out.write(line)

    # Which files are the project's

    def classify(self, filename: str) -> str | None:
        """`filename`'s path in its source root (POSIX), or None when it is not project
        code: outside the roots, in an installed package or virtualenv, or this tracer."""
        rel = None
        if not filename.startswith("<"):
            path = os.path.realpath(filename)
            if not path.startswith(_PACKAGE_DIR + os.sep):
                rel = self._in_roots(path)
        self.files[filename] = rel
        return rel

    def _in_roots(self, path: str) -> str | None:
        for root in self.roots:
            if path.startswith(root + os.sep):
                parts = path[len(root) + 1 :].split(os.sep)
                for part in parts[:-1]:
                    if part in _FOREIGN_DIRS or part.startswith("."):
                        return None
                return "/".join(parts)
        return None

    # The cores

    def start_core(self) -> None:
        if self.core == "sys.monitoring":
            self._start_monitoring()
        else:
            self._start_setprofile()

    def stop_core(self) -> None:
        if self.tool_id is not None:
            monitoring = sys.monitoring  # type: ignore[attr-defined]
            monitoring.set_events(self.tool_id, 0)
            monitoring.register_callback(self.tool_id, monitoring.events.PY_START, None)
            monitoring.register_callback(self.tool_id, monitoring.events.CALL, None)
            monitoring.free_tool_id(self.tool_id)
            self.tool_id = None
        else:
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]

    def _restart(self) -> None:
        if self.tool_id is not None:
            sys.monitoring.restart_events()  # type: ignore[attr-defined]

    def _start_setprofile(self) -> None:
        files, classify, codes, current = self.files, self.classify, self.codes, self.current

        def profile(frame, event, arg):  # the hot path: every call
            if event != "call":
                return
            code = frame.f_code
            rel = files.get(code.co_filename, _UNSEEN)
            if rel is _UNSEEN:
                rel = classify(code.co_filename)
            if rel is None:
                return
            callee = id(code)
            if callee not in codes:
                codes[callee] = code
            segment = current()
            functions = segment.functions
            functions[callee] = functions.get(callee, 0) + 1
            back = frame.f_back
            if back is not None:
                caller_code = back.f_code
                caller_rel = files.get(caller_code.co_filename, _UNSEEN)
                if caller_rel is _UNSEEN:  # a frame that began before the tracer
                    caller_rel = classify(caller_code.co_filename)
                if caller_rel is not None:
                    caller = id(caller_code)
                    if caller not in codes:
                        codes[caller] = caller_code
                    key = (caller, callee)
                    calls = segment.calls
                    calls[key] = calls.get(key, 0) + 1

        threading.setprofile(profile)
        sys.setprofile(profile)

    def _start_monitoring(self) -> None:
        monitoring = sys.monitoring  # type: ignore[attr-defined]
        # A free tool id, so coverage.py (COVERAGE_ID) or a debugger can run beside.
        free = [t for t in (monitoring.PROFILER_ID, 3, 4, 5) if monitoring.get_tool(t) is None]
        if not free:
            print("decomposer trace: no free sys.monitoring tool id", file=sys.stderr)
            return
        tool = self.tool_id = free[0]
        monitoring.use_tool_id(tool, "decomposer")
        disable, call_event = monitoring.DISABLE, monitoring.events.CALL
        files, classify, codes, current = self.files, self.classify, self.codes, self.current
        getframe = sys._getframe
        instrumented: set[int] = set()  # ids of the code objects with CALL events on

        def py_start(code, offset):  # once per function and segment
            rel = files.get(code.co_filename, _UNSEEN)
            if rel is _UNSEEN:
                rel = classify(code.co_filename)
            if rel is None:
                return disable
            callee = id(code)
            if callee not in instrumented:
                instrumented.add(callee)
                codes[callee] = code
                # CALL events only in project code: library call sites never fire.
                monitoring.set_local_events(tool, code, call_event)
            segment = current()
            segment.functions[callee] = 1
            # Calls no CALL event resolves (properties, dunders, calls from C): the caller
            # of the function's first run in the segment. Frames: 0 this, 1 the callee.
            back = getframe(1).f_back
            if back is not None:
                caller_code = back.f_code
                caller_rel = files.get(caller_code.co_filename, _UNSEEN)
                if caller_rel is _UNSEEN:
                    caller_rel = classify(caller_code.co_filename)
                if caller_rel is not None:
                    codes[id(caller_code)] = caller_code
                    segment.calls[(id(caller_code), callee)] = 1
            return disable

        def call(code, offset, callable_, arg0):  # once per call site and segment
            callee_code = _code_of(callable_)
            if callee_code is not None:
                callee_rel = files.get(callee_code.co_filename, _UNSEEN)
                if callee_rel is _UNSEEN:
                    callee_rel = classify(callee_code.co_filename)
                if callee_rel is not None:
                    codes[id(callee_code)] = callee_code
                    current().calls[(id(code), id(callee_code))] = 1
            return disable

        monitoring.register_callback(tool, monitoring.events.PY_START, py_start)
        monitoring.register_callback(tool, call_event, call)
        monitoring.set_events(tool, monitoring.events.PY_START)


def _code_of(obj: object) -> object | None:
    """The code a call of `obj` runs first, for the kinds of callables whose code is known
    without running anything of theirs (no getattr on arbitrary objects)."""
    kind = type(obj)
    if kind is FunctionType:
        return obj.__code__  # type: ignore[attr-defined]
    if kind is MethodType:
        return _code_of(obj.__func__)  # type: ignore[attr-defined]
    if kind is partial:
        return _code_of(obj.func)  # type: ignore[attr-defined]
    # A class runs its __init__; an instance, its class's __call__.
    function = _lookup(obj, "__init__") if isinstance(obj, type) else _lookup(kind, "__call__")
    return function.__code__ if function is not None else None


def _lookup(cls: type, name: str) -> FunctionType | None:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            found = klass.__dict__[name]
            return found if type(found) is FunctionType else None
    return None
