"""Celery use cases: one ``task`` segment per task run, labelled with the task's name.

Celery sends ``task_prerun`` before and ``task_postrun`` after (in a ``finally``) each task
run, in the worker and for eager runs (``apply()``, ``task_always_eager``) alike; the segment
spans the two. Calling a task function directly (``add(2, 2)``) is a plain call, not a run.
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

from . import patching, recorder

_open: dict[tuple[int, str], object] = {}  # (thread, task id) -> segment token
_lock = threading.Lock()


def _task_started(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if recorder.active() and task_id is not None:
        token = recorder.begin_segment("task", str(getattr(task, "name", None) or task))
        with _lock:
            _open[(threading.get_ident(), str(task_id))] = token


def _task_finished(task_id: str | None = None, **_: Any) -> None:
    with _lock:
        token = _open.pop((threading.get_ident(), str(task_id)), None)
    if token is not None:
        recorder.end_segment(token)


def patch_celery(module: ModuleType) -> None:
    """Connect to Celery's task signals (strong references: the receivers live on)."""
    from celery import signals  # type: ignore[import-untyped]

    signals.task_prerun.connect(_task_started, weak=False)
    signals.task_postrun.connect(_task_finished, weak=False)
    patching.on_undo(lambda: signals.task_prerun.disconnect(_task_started))
    patching.on_undo(lambda: signals.task_postrun.disconnect(_task_finished))
