"""SQL capture: every executed statement once, with the transaction it ran in.

Each connection is captured at exactly one layer, the lowest that sees it:

- **sqlite3**: ``sqlite3.connect`` returns an instance of a traced subclass of the class it
  would have built, so SQLAlchemy and Django on SQLite are captured here, with the exact
  transaction state SQLite reports (``in_transaction``).
- **SQLAlchemy** engine events, for engines whose DB-API connections are not traced below.
- **Django**'s execute wrappers, for database connections not traced below.
- :func:`trace_connection`, for any other DB-API 2 connection, wrapped by hand.

Transaction-control statements (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) are not
recorded as statements: they open and close the transactions the other statements run in.
A savepoint stays inside its transaction.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from types import ModuleType, TracebackType
from typing import Any, Self

from . import patching, recorder

# ---------------------------------------------------------------------- statements

_CONTROL_WORDS = {
    "BEGIN": "begin",
    "START": "begin",  # START TRANSACTION
    "COMMIT": "commit",
    "END": "commit",
    "ROLLBACK": "rollback",
    "ABORT": "rollback",
    "SAVEPOINT": "savepoint",
    "RELEASE": "release",
}


def _strip_comments(sql: str) -> str:
    """``sql`` without leading blanks and ``--`` / ``/* */`` comments."""
    text = sql.lstrip()
    while text.startswith(("--", "/*")):
        if text.startswith("--"):
            end = text.find("\n")
            text = "" if end < 0 else text[end + 1 :].lstrip()
        else:
            end = text.find("*/")
            text = "" if end < 0 else text[end + 2 :].lstrip()
    return text


_kinds: dict[str, str | None] = {}  # statements repeat: classify each text once
_UNKNOWN: Any = object()


def statement_kind(sql: str) -> str | None:
    """``begin``, ``commit``, ``rollback``, ``rollback_to``, ``savepoint`` or ``release`` for
    a transaction-control statement, else None."""
    kind = _kinds.get(sql, _UNKNOWN)
    if kind is _UNKNOWN:
        if len(_kinds) > 10_000:
            _kinds.clear()
        kind = _kinds[sql] = _classify(sql)
    return kind


def _classify(sql: str) -> str | None:
    text = _strip_comments(sql)
    words = text[:40].split(None, 2)
    if not words:
        return None
    kind = _CONTROL_WORDS.get(words[0].upper().rstrip(";"))
    if kind == "rollback" and " TO " in f" {sql.upper()} ":
        return "rollback_to"  # ROLLBACK [TRANSACTION] TO [SAVEPOINT] name: stays inside
    if kind == "begin" and words[0].upper() == "START":
        return kind if len(words) > 1 and words[1].upper().startswith("TRANSACTION") else None
    if kind == "begin" and ";" in text.rstrip().rstrip(";"):
        return None  # a PL/SQL block (BEGIN …; END;), not a transaction
    return kind


def split_script(script: str) -> Iterator[str]:
    """The statements of an SQL script, as SQLite splits them."""
    import sqlite3  # only ever called once sqlite3 is in use

    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if _strip_comments(buffer).rstrip(";").strip():
                yield buffer.strip().rstrip(";").strip()
            buffer = ""
    if _strip_comments(buffer).rstrip(";").strip():
        yield buffer.strip().rstrip(";").strip()


class TransactionState:
    """The transaction a connection is in. Its id is taken when a statement first runs in
    it, so transactions that ran nothing (``BEGIN; COMMIT``) are not reported."""

    __slots__ = ("id",)

    def __init__(self) -> None:
        self.id: int | None = None

    def current(self) -> int:
        if self.id is None:
            self.id = recorder.new_transaction_id()
        return self.id

    def end(self, outcome: str) -> None:
        if self.id is not None:
            recorder.end_transaction(self.id, outcome)
            self.id = None


def traced_below(dbapi_connection: Any) -> bool:
    """Whether a lower layer (the sqlite3 driver, :func:`trace_connection`) already records
    this DB-API connection's statements, so the framework's layer must not."""
    return getattr(type(dbapi_connection), "_decomposer_traced", False)


def _driver_autocommits(connection: Any) -> bool:
    """A DB-API connection's autocommit switch: ``autocommit`` (psycopg, mysql-connector,
    Python 3.12 sqlite3), ``get_autocommit()`` (PyMySQL, mysqlclient), ``isolation_level is
    None`` (sqlite3); off otherwise, as PEP 249 has it."""
    value = getattr(connection, "autocommit", None)
    if isinstance(value, bool):
        return value
    get_autocommit = getattr(connection, "get_autocommit", None)
    if callable(get_autocommit):
        return bool(get_autocommit())
    return hasattr(connection, "in_transaction") and connection.isolation_level is None


# ---------------------------------------------------------------------- sqlite3


def patch_sqlite3(module: ModuleType) -> None:
    """Make ``sqlite3.connect`` (also reached as ``sqlite3.dbapi2.connect``) trace."""
    from . import sqlite_driver

    traced = sqlite_driver.traced_connect(module.connect)
    patching.replace_attribute(module, "connect", traced)
    dbapi2 = sys.modules.get("sqlite3.dbapi2")
    if dbapi2 is not None:
        patching.replace_attribute(dbapi2, "connect", traced)


# ---------------------------------------------------------------------- any DB-API 2 driver


class DbApiConnection:
    """A DB-API 2 connection that records what its cursors run (see :func:`trace_connection`).

    Transactions follow PEP 249: without autocommit, a statement opens one implicitly;
    ``commit()`` / ``rollback()`` and COMMIT / ROLLBACK statements end it; with autocommit,
    only an explicit BEGIN opens one.
    """

    _decomposer_traced = True

    def __init__(self, connection: Any) -> None:
        object.__setattr__(self, "_connection", connection)
        object.__setattr__(self, "_transaction", TransactionState())
        object.__setattr__(self, "_explicit", False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._connection, name, value)  # autocommit, isolation_level, row_factory…

    def cursor(self, *args: Any, **kwargs: Any) -> DbApiCursor:
        return DbApiCursor(self._connection.cursor(*args, **kwargs), self)

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        """For drivers with ``connection.execute`` (sqlite3, psycopg 3)."""
        cursor = self.cursor()
        cursor.execute(sql, *args, **kwargs)
        return cursor

    def commit(self) -> None:
        self._connection.commit()
        self._end("commit")

    def rollback(self) -> None:
        self._connection.rollback()
        self._end("rollback")

    def close(self) -> None:
        self._connection.close()
        self._end("rollback")

    def __enter__(self) -> Self:
        self._connection.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> Any:
        result = self._connection.__exit__(exc_type, exc, traceback)
        self._end("commit" if exc_type is None else "rollback")
        return result

    def _end(self, outcome: str) -> None:
        object.__setattr__(self, "_explicit", False)
        self._transaction.end(outcome)

    def record(self, sql: str) -> None:
        """Record one statement about to run, following the transaction it opens or ends."""
        kind = statement_kind(sql)
        if kind == "begin":
            object.__setattr__(self, "_explicit", True)
        elif kind in ("commit", "rollback"):
            self._end(kind)
        elif kind is None:
            inside = self._explicit or not _driver_autocommits(self._connection)
            recorder.record_sql(sql, self._transaction.current() if inside else None)


class DbApiCursor:
    """A DB-API 2 cursor that records ``execute`` / ``executemany`` (once per call)."""

    def __init__(self, cursor: Any, connection: DbApiConnection) -> None:
        self._cursor = cursor
        self._owner = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __iter__(self) -> Any:
        return iter(self._cursor)

    def __enter__(self) -> Self:
        self._cursor.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> Any:
        return self._cursor.__exit__(*exc_info)

    @property
    def connection(self) -> DbApiConnection:
        return self._owner

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        if recorder.active():
            self._owner.record(sql)
        result = self._cursor.execute(sql, *args, **kwargs)
        return self if result is self._cursor else result

    def executemany(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        if recorder.active():
            self._owner.record(sql)
        result = self._cursor.executemany(sql, *args, **kwargs)
        return self if result is self._cursor else result


def trace_connection(connection: Any) -> Any:
    """Wrap a DB-API 2 connection (psycopg, PyMySQL, …) so its statements are recorded;
    a connection already traced (by the sqlite3 layer, or wrapped before) comes back as is."""
    live = patching.tracing_copy("sqlcapture", __name__)
    if live is not None:
        return live.trace_connection(connection)
    if traced_below(connection):
        return connection
    return DbApiConnection(connection)


# ---------------------------------------------------------------------- SQLAlchemy

_SA_STATE = "decomposer.transaction"


def _sa_state(conn: Any) -> TransactionState | None:
    """The transaction state of a SQLAlchemy Connection, None when a lower layer records."""
    try:
        dbapi_connection = conn.connection.dbapi_connection
    except Exception:  # noqa: BLE001 - invalidated or closed: nothing more to record
        return None
    if traced_below(dbapi_connection):
        return None
    return conn.info.setdefault(_SA_STATE, TransactionState())


def _sa_before_cursor_execute(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
    if not recorder.active() or statement_kind(statement) is not None:
        return
    state = _sa_state(conn)
    if state is not None:
        autocommit = getattr(conn, "_is_autocommit_isolation", lambda: False)()
        recorder.record_sql(statement, None if autocommit else state.current())


def _sa_commit(conn: Any) -> None:
    state = _sa_state(conn)
    if state is not None:
        state.end("commit")


def _sa_rollback(conn: Any) -> None:
    state = _sa_state(conn)
    if state is not None:
        state.end("rollback")


def _sa_pool_reset(dbapi_connection: Any, connection_record: Any, reset_state: Any) -> None:
    """The pool rolled back a connection handed back to it (a Connection that was dropped
    rather than closed)."""
    state = connection_record.info.get(_SA_STATE) if connection_record is not None else None
    if state is not None:
        state.end("rollback")


def patch_sqlalchemy(module: ModuleType) -> None:
    """Listen to every engine's statements, commits and rollbacks (SQLAlchemy 1.4 and 2.x:
    a statement always runs in the transaction SQLAlchemy began, unless AUTOCOMMIT)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    listeners: list[tuple[Any, str, Callable[..., Any]]] = [
        (Engine, "before_cursor_execute", _sa_before_cursor_execute),
        (Engine, "commit", _sa_commit),
        (Engine, "rollback", _sa_rollback),
    ]
    if int(module.__version__.split(".")[0]) >= 2:  # 1.4's reset event has other arguments
        listeners.append((Pool, "reset", _sa_pool_reset))
    for target, name, listener in listeners:
        event.listen(target, name, listener)
        patching.on_undo(functools.partial(event.remove, target, name, listener))


# ---------------------------------------------------------------------- Django


def _django_execute_wrapper(wrapper: Any) -> Any:
    """A Django execute wrapper recording for the database connection ``wrapper``."""
    state = TransactionState()
    wrapper._decomposer_transaction = state

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if recorder.active() and statement_kind(sql) is None:
            inside = not wrapper.get_autocommit()
            recorder.record_sql(sql, state.current() if inside else None)
        return execute(sql, params, many, context)

    record._decomposer_traced = True  # type: ignore[attr-defined]
    return record


def _django_end(outcome: str) -> Any:
    def end(wrapper: Any) -> None:
        state = wrapper.__dict__.get("_decomposer_transaction")
        if state is not None:
            state.end(outcome)

    return end


def patch_django_db(module: ModuleType) -> None:
    """Record through an execute wrapper on each Django database connection whose DB-API
    connection is not traced below; commits and rollbacks end its transaction."""
    base = module.BaseDatabaseWrapper

    def wrap_connect(connect: Any) -> Any:
        def connect_and_wrap(self: Any) -> None:
            connect(self)
            # A reconnect keeps the wrappers list: replace ours rather than add a second.
            self.execute_wrappers[:] = [
                w for w in self.execute_wrappers if not getattr(w, "_decomposer_traced", False)
            ]
            if not traced_below(self.connection):
                self.execute_wrappers.append(_django_execute_wrapper(self))

        return connect_and_wrap

    def wrap_end(method: Any, outcome: str) -> Any:
        end = _django_end(outcome)

        def method_then_end(self: Any) -> None:
            method(self)
            end(self)

        return method_then_end

    patching.replace_attribute(base, "connect", wrap_connect(base.connect))
    # The public methods: backends override _commit / _rollback (Oracle, MySQL), not these.
    patching.replace_attribute(base, "commit", wrap_end(base.commit, "commit"))
    patching.replace_attribute(base, "rollback", wrap_end(base.rollback, "rollback"))
