"""Engine and session handling.

One engine per Flask app, one session per application context (request, CLI command or
background job), kept on ``flask.g`` and closed when the context ends. Services either take
the session as an argument or call :func:`get_session` -- both give the same object inside
one request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from shop.models import Base

EXTENSION_KEY = "shop.db"


@dataclass
class Database:
    engine: Engine
    session_factory: sessionmaker[Session]


def _sqlite_pragmas(pragmas: dict[str, str]) -> Any:
    """A connect hook that turns on foreign keys (off by default in SQLite) and ``pragmas``."""

    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        for name, value in pragmas.items():
            cursor.execute(f"PRAGMA {name}={value}")
        cursor.close()

    return on_connect


def make_engine(url: str, echo: bool = False, sqlite_pragmas: dict[str, str] | None = None) -> Engine:
    engine = create_engine(url, echo=echo)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(sqlite_pragmas or {}))
    return engine


def init_app(app: Flask) -> Database:
    engine = make_engine(app.config["DATABASE_URL"], echo=app.config.get("SQL_ECHO", False),
                         sqlite_pragmas=app.config.get("SQLITE_PRAGMAS"))
    database = Database(engine=engine, session_factory=sessionmaker(bind=engine, expire_on_commit=False))
    app.extensions[EXTENSION_KEY] = database
    app.teardown_appcontext(close_session)
    return database


def get_database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions[EXTENSION_KEY]


def get_engine(app: Flask | None = None) -> Engine:
    return get_database(app).engine


def get_session() -> Session:
    """The session of the current application context (created on first use)."""
    if "db_session" not in g:
        g.db_session = get_database().session_factory()
    return g.db_session


def close_session(exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()


@contextmanager
def transaction(session: Session | None = None) -> Iterator[Session]:
    """Commit the block's work, or roll it back if the block raises."""
    session = session or get_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def create_schema(app: Flask | None = None) -> None:
    Base.metadata.create_all(get_engine(app))


def drop_schema(app: Flask | None = None) -> None:
    Base.metadata.drop_all(get_engine(app))
