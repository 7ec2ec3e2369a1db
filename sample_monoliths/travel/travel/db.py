"""Database access: connections, transactions and schema setup.

We run SQLite in autocommit mode (``isolation_level=None``) and open
transactions explicitly with :func:`transaction`, so that a service function
can tell whether it is already inside a unit of work.  Nested ``transaction``
blocks become savepoints.
"""

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("schema.sql")
_SYNC_LEVELS = ("OFF", "NORMAL", "FULL")


def connect(path):
    """Open a connection with our standard settings.  Callers must close it."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
    # WAL lets the job runner read while the CLI writes; NORMAL is safe with WAL.
    # CI and throw-away databases set TRAVEL_DB_SYNCHRONOUS=OFF.
    sync = os.environ.get("TRAVEL_DB_SYNCHRONOUS", "NORMAL").upper()
    if sync not in _SYNC_LEVELS:
        conn.close()
        raise ValueError(f"TRAVEL_DB_SYNCHRONOUS must be one of {', '.join(_SYNC_LEVELS)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {sync}")
    return conn


@contextmanager
def open_db(path):
    """``with open_db(path) as conn:`` -- connect and always close."""
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()


_savepoint_counter = 0


@contextmanager
def transaction(conn):
    """Run the block in one transaction; commit on success, roll back on error.

    If a transaction is already open the block runs in a SAVEPOINT instead, so
    helpers can use ``with transaction(conn):`` without caring who called them.
    """
    global _savepoint_counter
    if conn.in_transaction:
        _savepoint_counter += 1
        name = f"sp_{_savepoint_counter}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            conn.execute(f"RELEASE SAVEPOINT {name}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def init_db(conn):
    """Create all tables (idempotent)."""
    conn.executescript(SCHEMA_PATH.read_text(encoding="utf-8"))


def table_names(conn):
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [r["name"] for r in rows]


def fetch_one(conn, sql, params=()):
    return conn.execute(sql, params).fetchone()


def fetch_all(conn, sql, params=()):
    return conn.execute(sql, params).fetchall()


def scalar(conn, sql, params=(), default=None):
    row = conn.execute(sql, params).fetchone()
    if row is None or row[0] is None:
        return default
    return row[0]
