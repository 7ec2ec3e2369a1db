"""Collect the facts of many files: from the cache when the content is unchanged, else in a
process pool.

libcst's native parser can crash the process on some pathological input (thousands of nested
brackets) or take very long (a huge expression chain). Each file therefore gets a time limit
enforced by SIGALRM, whose default action ends the worker; when a worker dies, the files it
may have held are retried one at a time in a fresh single-worker pool, and the one that kills
it again becomes a diagnostic instead of taking the run down.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from analyzers.static.discovery import SourceFile
from analyzers.static.facts import empty_facts
from decomposer.cache import Cache, content_key, read_ahead

#: Bump when the facts a file yields, or the way they are resolved, change: old cache
#: entries and the last run's graph then stop matching.
FACTS_VERSION = "static-6"
CHUNK = 8
_HAS_ALARM = hasattr(signal, "setitimer")

Task = tuple[str, str, bool, str]  # (path, module, is_package, the key it was found with)
#: The diagnostic of a file whose content changed between its keying and its parse: its facts
#: are not those of its key, so neither they nor this run's graph are kept.
CHANGED = "changed-during-analysis"
# Outcomes of this run, not of the file's content: the next run tries the file again.
_NOT_CACHED = ("timeout", "parser-crash", "unreadable", CHANGED)


def file_keys(files: Sequence[SourceFile]) -> list[tuple[SourceFile, str | None]]:
    """Each file with the cache key of its content; None for a file that cannot be read."""
    keyed: list[tuple[SourceFile, str | None]] = []
    read_ahead(str(source.path) for source in files)
    for source in files:
        try:
            data = source.path.read_bytes()
        except OSError:
            keyed.append((source, None))
            continue
        keyed.append(
            (source, content_key(FACTS_VERSION, source.module, str(source.is_package), data))
        )
    return keyed


def is_kept(facts: dict[str, Any]) -> bool:
    """Whether a file's facts are those of its content, to be kept under its key."""
    return not any(d[0] in _NOT_CACHED for d in facts["diagnostics"])


def collect_all(
    keyed: Sequence[tuple[SourceFile, str | None]],
    *,
    cache: Cache,
    jobs: int,
    file_timeout: float,
    progress: Callable[[int], None],
) -> dict[str, dict[str, Any]]:
    """Facts per file (keyed by `rel`), in no particular order."""
    results: dict[str, dict[str, Any]] = {}
    todo: list[tuple[SourceFile, str]] = []
    cache.read_ahead(key for _, key in keyed if key is not None)
    for source, key in keyed:
        cached = cache.get(key) if key is not None else None
        if key is None:
            results[source.rel] = _empty(source, "unreadable", "the file cannot be read")
            progress(1)
        elif cached is not None:
            results[source.rel] = cached
            progress(1)
        else:
            todo.append((source, key))

    def done(source: SourceFile, key: str, facts: dict[str, Any]) -> None:
        results[source.rel] = facts
        if is_kept(facts):
            cache.put(key, facts)
        progress(1)

    # Even with one job the work runs in a worker: a parser crash must not end the run.
    leftovers = _run_pool(todo, jobs, file_timeout, done) if len(todo) >= 2 * CHUNK else todo
    _run_isolated(leftovers, file_timeout, done)
    return results


def _context() -> multiprocessing.context.BaseContext:
    # forkserver: workers start from a clean process, not a fork of one running threads
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _run_pool(
    todo: list[tuple[SourceFile, str]],
    jobs: int,
    file_timeout: float,
    done: Callable[[SourceFile, str, dict[str, Any]], None],
) -> list[tuple[SourceFile, str]]:
    """Run chunks on `jobs` workers; return the files left unfinished if a worker died."""
    chunks = [todo[i : i + CHUNK] for i in range(0, len(todo), CHUNK)]
    unfinished: list[tuple[SourceFile, str]] = []
    with ProcessPoolExecutor(
        max_workers=max(1, jobs), mp_context=_context(), initializer=_ignore_ctrl_c
    ) as pool:
        pending: dict[Future[list[dict[str, Any]]], list[tuple[SourceFile, str]]] = {}
        try:
            with _ctrl_c_held():
                for chunk in chunks:
                    tasks = [(str(s.path), s.module, s.is_package, key) for s, key in chunk]
                    pending[pool.submit(_collect_chunk, tasks, file_timeout)] = chunk
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    chunk = pending.pop(future)
                    try:
                        facts_list = future.result()
                    except BrokenProcessPool:
                        unfinished.extend(chunk)
                        continue
                    for (source, key), facts in zip(chunk, facts_list, strict=True):
                        done(source, key, facts)
        except BaseException:  # Ctrl-C: drop the queued chunks rather than finish them all
            pool.shutdown(cancel_futures=True)
            raise
    return unfinished


def _run_isolated(
    todo: list[tuple[SourceFile, str]],
    file_timeout: float,
    done: Callable[[SourceFile, str, dict[str, Any]], None],
) -> None:
    """One file per task on one worker, so a dying worker names the file that killed it."""
    remaining = list(todo)
    while remaining:
        with ProcessPoolExecutor(
            max_workers=1, mp_context=_context(), initializer=_ignore_ctrl_c
        ) as pool:
            while remaining:
                source, key = remaining[0]
                started = time.monotonic()
                with _ctrl_c_held():
                    future = pool.submit(
                        _collect_chunk,
                        [(str(source.path), source.module, source.is_package, key)],
                        file_timeout,
                    )
                try:
                    facts = future.result()[0]
                except BrokenProcessPool:
                    remaining.pop(0)
                    done(source, key, _crashed(source, time.monotonic() - started, file_timeout))
                    break  # the pool is dead: start a new one for the rest
                remaining.pop(0)
                done(source, key, facts)


def _ignore_ctrl_c() -> None:
    # Ctrl-C in a terminal reaches the workers too; the main process stops the pool, and a
    # worker finishes its chunk instead of dying with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Hold Ctrl-C while the pool starts its workers (it does so in `submit`) and raise it once
    they are up: a pool interrupted half-way through starting one is not sure to shut down."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    # Blocked as well: the processes started meanwhile (the forkserver, the workers) inherit
    # the mask, so a Ctrl-C sent to the whole group cannot stop them half-way through starting.
    _mask(signal.SIG_BLOCK)
    try:
        yield
    finally:
        _mask(signal.SIG_UNBLOCK)
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):
        previous(signal.SIGINT, None)


def _mask(how: int) -> None:
    if hasattr(signal, "pthread_sigmask"):  # not on Windows
        signal.pthread_sigmask(how, {signal.SIGINT})


def _collect_chunk(tasks: list[Task], file_timeout: float) -> list[dict[str, Any]]:
    from analyzers.static.collect import collect_file  # libcst: only where files are parsed

    # libcst walks trees recursively: a long implicit string concatenation or a deep
    # expression needs more than Python's default 1000 frames. Should the C stack give out
    # first, the worker dies and the file is isolated like any other crash.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
    out = []
    for path, module, is_package, key in tasks:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:  # gone or locked since its key was taken
            message = f"the file cannot be read ({exc.strerror or exc})"
            out.append(empty_facts(module, is_package, 0, 0, ["unreadable", message, None]))
            continue
        if _HAS_ALARM:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the alarm ends this worker
            signal.setitimer(signal.ITIMER_REAL, file_timeout)
        try:
            facts = collect_file(data, module, is_package)
        finally:
            if _HAS_ALARM:
                signal.setitimer(signal.ITIMER_REAL, 0)
        if content_key(FACTS_VERSION, module, str(is_package), data) != key:
            message = "the file changed while it was analysed; run again to keep its analysis"
            facts["diagnostics"].append([CHANGED, message, None])
        out.append(facts)
    return out


def _crashed(source: SourceFile, elapsed: float, file_timeout: float) -> dict[str, Any]:
    if elapsed >= file_timeout:
        code, message = "timeout", f"analysis took over {file_timeout:g} s and was stopped"
    else:
        code, message = "parser-crash", "the parser crashed on this file"
    return _empty(source, code, message)


def _empty(source: SourceFile, code: str, message: str) -> dict[str, Any]:
    return empty_facts(source.module, source.is_package, 0, 0, [code, message, None])
