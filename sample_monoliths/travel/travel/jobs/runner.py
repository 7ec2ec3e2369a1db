"""A small job runner on top of the ``jobs`` table.

Jobs are rows (kind, JSON payload, run_at).  The runner picks due rows,
claims them with a conditional UPDATE (so two cron runs never execute the same
job), calls the registered handler and records the outcome.  Failures are
retried with a linear back-off until ``job_max_attempts``.  Recurring jobs
re-schedule themselves after each successful run.
"""

import importlib
import traceback
from dataclasses import dataclass
from datetime import timedelta

from travel import queries
from travel.common.util import dumps, loads, now, now_iso

HANDLERS = {}
RECURRING = {}


def job(kind, every_minutes=None):
    """Register a handler: ``@job("send_trip_reminders", every_minutes=60)``."""

    def register(func):
        if kind in HANDLERS:
            raise ValueError(f"job kind {kind!r} registered twice")
        HANDLERS[kind] = func
        if every_minutes:
            RECURRING[kind] = every_minutes
        return func

    return register


def load_handlers():
    """Import the modules that define handlers (they register on import)."""
    importlib.import_module("travel.jobs.tasks")


def enqueue(conn, kind, payload=None, run_at=None):
    """Add a job.  Works inside or outside a transaction."""
    ts = now_iso()
    return conn.execute(
        queries.INSERT_JOB, (kind, dumps(payload or {}), run_at or ts, ts)
    ).lastrowid


def schedule_once(conn, kind, run_at):
    """Queue ``kind`` at ``run_at`` unless one is already pending.  True if queued."""
    cur = conn.execute(
        """
        INSERT INTO jobs (kind, payload, run_at, status, created_at)
        SELECT ?, '{}', ?, 'pending', ?
        WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE kind = ? AND status = 'pending')
        """,
        (kind, run_at, now_iso(), kind),
    )
    return cur.rowcount == 1


def ensure_recurring(conn):
    """Make sure each recurring job kind has a pending row (due now if new)."""
    load_handlers()
    ts = now_iso()
    return sum(schedule_once(conn, kind, ts) for kind in sorted(RECURRING))


def purge_finished(conn, older_than):
    """Delete finished jobs older than ``older_than``; failed ones are kept for ops."""
    cur = conn.execute(
        "DELETE FROM jobs WHERE status = 'done' AND finished_at < ?", (older_than,)
    )
    return cur.rowcount


@dataclass
class JobOutcome:
    job_id: int
    kind: str
    status: str  # done | retry | failed
    message: str


class JobRunner:
    """Runs due jobs against one connection."""

    def __init__(self, conn, settings):
        self.conn = conn
        self.settings = settings
        load_handlers()

    def due_jobs(self, limit):
        return self.conn.execute(queries.SELECT_DUE_JOBS, (now_iso(), limit)).fetchall()

    def claim(self, row):
        cur = self.conn.execute(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1 "
            "WHERE id = ? AND status = 'pending'",
            (row["id"],),
        )
        return cur.rowcount == 1

    def run_one(self, row):
        handler = HANDLERS.get(row["kind"])
        if handler is None:
            self._finish(row, "failed", f"no handler for job kind {row['kind']!r}")
            return JobOutcome(row["id"], row["kind"], "failed", "unknown job kind")
        try:
            message = handler(self.conn, loads(row["payload"]), self.settings) or "ok"
        except Exception as exc:  # noqa: BLE001 - a job must never kill the runner
            return self._failed(row, exc)
        self._finish(row, "done", None)
        if row["kind"] in RECURRING:
            # also when queued by hand: the schedule survives a manual run
            next_run = now() + timedelta(minutes=RECURRING[row["kind"]])
            schedule_once(self.conn, row["kind"], next_run.isoformat(timespec="seconds"))
        return JobOutcome(row["id"], row["kind"], "done", str(message))

    def run_pending(self, limit=100):
        outcomes = []
        for row in self.due_jobs(limit):
            if not self.claim(row):
                continue  # another runner got it
            outcomes.append(self.run_one(row))
        return outcomes

    def _failed(self, row, exc):
        attempts = row["attempts"] + 1
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        if attempts >= self.settings.job_max_attempts:
            self._finish(row, "failed", error)
            return JobOutcome(row["id"], row["kind"], "failed", error)
        retry_at = now() + timedelta(minutes=self.settings.job_retry_minutes * attempts)
        self.conn.execute(
            "UPDATE jobs SET status = 'pending', run_at = ?, last_error = ? WHERE id = ?",
            (retry_at.isoformat(timespec="seconds"), error, row["id"]),
        )
        return JobOutcome(row["id"], row["kind"], "retry", error)

    def _finish(self, row, status, error):
        self.conn.execute(
            "UPDATE jobs SET status = ?, last_error = ?, finished_at = ? WHERE id = ?",
            (status, error, now_iso(), row["id"]),
        )


def run_jobs(conn, settings, limit=100, recurring=False):
    """Entry point used by the CLI and cron."""
    if recurring:
        ensure_recurring(conn)
    return JobRunner(conn, settings).run_pending(limit)
