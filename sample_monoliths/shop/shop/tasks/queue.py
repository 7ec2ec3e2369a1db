"""A small in-house task queue.

Written in 2018 when Celery was "too much infrastructure". Tasks are plain functions
registered with ``@task("name")``; :func:`enqueue` puts a job on the app's queue and
:func:`run_worker` runs queued jobs, each in its own application context and database
session, committing after the job and retrying it on failure.

The queue lives in process memory: the production worker runs ``flask run-worker`` in a
loop on the web host. Known limitation: jobs enqueued inside a transaction that later rolls
back still run (the tasks check that their rows exist).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import Any, TypeVar

from flask import Flask, current_app

from shop.db import get_session
from shop.utils.dates import utcnow
from shop.utils.loading import import_modules
from shop.utils.logs import get_logger, log_event

log = get_logger("tasks")

EXTENSION_KEY = "shop.task_queue"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class TaskSpec:
    name: str
    func: Callable[..., Any]
    max_retries: int | None = None


@dataclass
class Job:
    id: int
    name: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    enqueued_at: datetime = field(default_factory=utcnow)
    last_error: str | None = None
    result: Any = None


@dataclass
class WorkerStats:
    processed: int = 0
    succeeded: int = 0
    retried: int = 0
    dead: int = 0
    by_task: dict[str, int] = field(default_factory=dict)
    finished: list[Job] = field(default_factory=list)

    def results(self, name: str) -> list[Any]:
        """Return values of the finished jobs of task ``name``, in run order."""
        return [job.result for job in self.finished if job.name == name]


class TaskQueue:
    """FIFO of pending jobs plus a dead-letter list of jobs that ran out of retries."""

    def __init__(self) -> None:
        self._jobs: deque[Job] = deque()
        self._ids = count(1)
        self.dead: list[Job] = []

    def push(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Job:
        job = Job(id=next(self._ids), name=name, args=args, kwargs=kwargs)
        self._jobs.append(job)
        return job

    def requeue(self, job: Job) -> None:
        self._jobs.append(job)

    def pop(self) -> Job | None:
        return self._jobs.popleft() if self._jobs else None

    def pending(self, name: str | None = None) -> list[Job]:
        return [job for job in self._jobs if name is None or job.name == name]

    def __len__(self) -> int:
        return len(self._jobs)


_registry: dict[str, TaskSpec] = {}


def task(name: str, *, max_retries: int | None = None) -> Callable[[F], F]:
    """Register the decorated function as the background task ``name``."""

    def decorator(func: F) -> F:
        existing = _registry.get(name)
        if existing is not None and existing.func.__qualname__ != func.__qualname__:
            raise ValueError(f"task {name!r} registered twice")
        _registry[name] = TaskSpec(name=name, func=func, max_retries=max_retries)
        func.task_name = name  # type: ignore[attr-defined]
        return func

    return decorator


def registered_tasks() -> list[str]:
    return sorted(_registry)


def autodiscover(app: Flask) -> None:
    """Import the modules listed in ``TASK_MODULES`` so their tasks register."""
    import_modules(app.config.get("TASK_MODULES", ()))


def get_queue(app: Flask | None = None) -> TaskQueue:
    app = app or current_app
    queue = app.extensions.get(EXTENSION_KEY)
    if queue is None:
        queue = app.extensions[EXTENSION_KEY] = TaskQueue()
    return queue


def enqueue(name: str, *args: Any, **kwargs: Any) -> Job:
    """Queue the task ``name`` to run later on the worker."""
    if name not in _registry:
        autodiscover(current_app)
        if name not in _registry:
            raise KeyError(f"no task named {name!r}")
    job = get_queue().push(name, args, kwargs)
    log_event(log, "task.enqueued", task=name, job=job.id)
    return job


def run_job(app: Flask, job: Job) -> bool:
    """Run one job in a fresh application context; True if it succeeded."""
    spec = _registry[job.name]
    job.attempts += 1
    with app.app_context():
        session = get_session()
        try:
            job.result = spec.func(*job.args, **job.kwargs)
            session.commit()
        except Exception as exc:  # a failing job must not kill the worker
            session.rollback()
            job.last_error = f"{type(exc).__name__}: {exc}"
            log_event(log, "task.failed", task=job.name, job=job.id, attempt=job.attempts,
                      error=job.last_error)
            return False
    log_event(log, "task.done", task=job.name, job=job.id)
    return True


def run_worker(app: Flask, max_jobs: int | None = None) -> WorkerStats:
    """Run queued jobs until the queue is empty (or ``max_jobs`` ran)."""
    autodiscover(app)
    queue = get_queue(app)
    stats = WorkerStats()
    default_retries = app.config.get("TASK_MAX_RETRIES", 3)
    while max_jobs is None or stats.processed < max_jobs:
        job = queue.pop()
        if job is None:
            break
        stats.processed += 1
        stats.by_task[job.name] = stats.by_task.get(job.name, 0) + 1
        if run_job(app, job):
            stats.succeeded += 1
            stats.finished.append(job)
            continue
        spec = _registry[job.name]
        retries = default_retries if spec.max_retries is None else spec.max_retries
        if job.attempts <= retries:
            stats.retried += 1
            queue.requeue(job)
        else:
            stats.dead += 1
            queue.dead.append(job)
    return stats
