"""Background work: a small in-house task queue and the jobs that run on it."""

from shop.tasks.queue import enqueue, run_worker, task

__all__ = ["enqueue", "run_worker", "task"]
