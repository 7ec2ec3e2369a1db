"""sqlite3 connections and cursors that record their statements and transactions.

``sqlite3.connect`` is patched to build these subclasses (of the ``factory`` it was given,
so Django's and SQLAlchemy's own subclasses keep working). The traced class comes after
the caller's in the method order, so it sees each statement last, as SQLite receives it
(after Django has turned ``%s`` into ``?``). The transaction state comes from SQLite itself
(``in_transaction``), which covers the legacy implicit BEGIN before DML, explicit BEGIN,
SAVEPOINT outside a transaction, Python 3.12's ``autocommit`` modes and rollbacks caused by
errors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from types import TracebackType
from typing import Any

from . import recorder
from .sqlcapture import TransactionState, split_script, statement_kind

_STATE = "_decomposer_transaction"


def _state(connection: Any) -> TransactionState:
    """The connection's transaction state, made on first use (no __init__ to rely on: a
    caller's factory may call ``sqlite3.Connection.__init__`` directly)."""
    state = connection.__dict__.get(_STATE)
    if state is None:
        state = connection.__dict__[_STATE] = TransactionState()
    return state


def _record_statement(connection: Any, sql: str, was_open: bool, failed: bool) -> None:
    """Record one statement run on a traced connection, then follow SQLite's state."""
    state = _state(connection)
    if not was_open and state.id is not None:
        state.end("commit")  # closed where no statement showed it (executescript's COMMIT)
    is_open = connection.in_transaction
    kind = statement_kind(sql)
    if kind is None:
        recorder.record_sql(sql, state.current() if was_open or is_open else None)
    if was_open and not is_open:
        state.end("rollback" if kind == "rollback" or failed else "commit")


def _record_script(connection: Any, script: str, inside: bool) -> None:
    """Record the statements of an ``executescript`` call once it ran; ``inside``: whether
    it began inside a transaction."""
    state = _state(connection)
    for sql in split_script(script):
        kind = statement_kind(sql)
        if kind is None:
            recorder.record_sql(sql, state.current() if inside else None)
        elif kind in ("begin", "savepoint"):
            inside = True
        elif kind in ("commit", "rollback"):
            state.end(kind)
            inside = False
    if not connection.in_transaction:
        state.end("commit")


def _closed_by_driver(connection: Any) -> bool:
    """Whether commit() / rollback() / ``with conn`` ended the transaction: always under
    Python 3.12's ``autocommit=False`` (which opens the next one at once), else when SQLite
    is out of it (under ``autocommit=True`` they do nothing)."""
    return getattr(connection, "autocommit", None) is False or not connection.in_transaction


def _run(cursor: Any, method: Callable[..., Any], sql: str, args: Any, kwargs: Any) -> Any:
    connection = cursor.connection
    if not recorder.active():
        return method(sql, *args, **kwargs)
    was_open = connection.in_transaction
    failed = True
    try:
        result = method(sql, *args, **kwargs)
        failed = False
        return result
    finally:
        _record_statement(connection, sql, was_open, failed)


class TracedCursor(sqlite3.Cursor):
    """A cursor that records what it executes (``executemany`` counts once)."""

    _decomposer_traced = True

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        return _run(self, super().execute, sql, args, kwargs)

    def executemany(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        return _run(self, super().executemany, sql, args, kwargs)

    def executescript(self, script: str, *args: Any, **kwargs: Any) -> Any:
        connection = self.connection
        if not recorder.active():
            return super().executescript(script, *args, **kwargs)
        inside = connection.in_transaction
        legacy = not isinstance(getattr(connection, "autocommit", None), bool)
        if inside and legacy:
            _state(connection).end("commit")  # the legacy mode commits a pending one first
            inside = False
        try:
            return super().executescript(script, *args, **kwargs)
        finally:
            _record_script(connection, script, inside)


class TracedConnection(sqlite3.Connection):
    """A connection whose cursors record, and whose commit / rollback / close / ``with``
    end the current transaction (the C methods would bypass Python overrides)."""

    _decomposer_traced = True

    def cursor(self, factory: Any = sqlite3.Cursor) -> Any:
        if factory is sqlite3.Cursor:
            return super().cursor(TracedCursor)
        return super().cursor(traced_class(factory, TracedCursor))

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        return self.cursor().execute(sql, *args, **kwargs)

    def executemany(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        return self.cursor().executemany(sql, *args, **kwargs)

    def executescript(self, script: str, *args: Any, **kwargs: Any) -> Any:
        return self.cursor().executescript(script, *args, **kwargs)

    def commit(self) -> None:
        super().commit()
        self._end_transaction("commit")

    def rollback(self) -> None:
        super().rollback()
        self._end_transaction("rollback")

    def close(self) -> None:
        was_open = self.in_transaction
        super().close()
        if was_open:  # SQLite rolls back what was not committed
            _state(self).end("rollback")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> Any:
        result = super().__exit__(exc_type, exc, traceback)
        self._end_transaction("commit" if exc_type is None else "rollback")
        return result

    def _end_transaction(self, outcome: str) -> None:
        if _closed_by_driver(self):
            _state(self).end(outcome)


_traced_classes: dict[tuple[type, type], type] = {}


def traced_class(factory: Any, traced: type) -> Any:
    """``traced`` itself, or a subclass of ``factory`` and ``traced`` (in that order); the
    factory unchanged when it is not a class of the same kind (it cannot be traced)."""
    base = traced.__mro__[1]
    if factory is base or factory is traced:
        return traced
    if not isinstance(factory, type) or not issubclass(factory, base):
        return factory
    if issubclass(factory, traced):
        return factory
    key = (factory, traced)
    if key not in _traced_classes:
        _traced_classes[key] = type(factory.__name__, (factory, traced), {})
    return _traced_classes[key]


def traced_connect(connect: Callable[..., Any]) -> Callable[..., Any]:
    """``sqlite3.connect`` building traced connections."""

    def connect_traced(*args: Any, **kwargs: Any) -> Any:
        if len(args) > 5:  # factory given by position
            args = (*args[:5], traced_class(args[5], TracedConnection), *args[6:])
        else:
            factory = kwargs.get("factory", sqlite3.Connection)
            kwargs["factory"] = traced_class(factory, TracedConnection)
        return connect(*args, **kwargs)

    connect_traced.__wrapped__ = connect  # type: ignore[attr-defined]
    connect_traced.__doc__ = connect.__doc__
    return connect_traced
