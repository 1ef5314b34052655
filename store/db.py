"""Engine and session factory, created by the app's lifespan (never at import time)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import asyncpg.exceptions as pg
from sqlalchemy import event, exc, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# Errors that say the database went away (restarted, refused, connection cut), not that a
# statement was wrong: the request may simply be tried again.
_LOST = (
    exc.OperationalError,  # PostgreSQL: the server went away; SQLite: see _SQLITE_TRANSIENT
    exc.InterfaceError,
    pg.PostgresConnectionError,  # ConnectionDoesNotExistError, ConnectionFailureError...
    pg.CannotConnectNowError,  # starting up or shutting down
    pg.AdminShutdownError,  # pg_terminate_backend, a fast shutdown
    pg.CrashShutdownError,
    pg.TooManyConnectionsError,
    ConnectionError,  # refused, reset, aborted, broken pipe
)


# SQLite raises OperationalError for missing tables too: only these mean "try again".
_SQLITE_TRANSIENT = ("database is locked", "unable to open database", "disk i/o error")


def connection_lost(error: BaseException | None) -> bool:
    """True if ``error`` (or what it wraps) means the database connection was lost."""
    for _ in range(6):  # SQLAlchemy wraps the driver's error, which may wrap an OSError
        if error is None:
            return False
        if isinstance(error, sqlite3.OperationalError):
            return any(m in str(error).lower() for m in _SQLITE_TRANSIENT)
        if isinstance(error, exc.OperationalError) and isinstance(error.orig, sqlite3.Error):
            error = error.orig
            continue
        if isinstance(error, _LOST):
            return True
        if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
            return True
        orig = error.orig if isinstance(error, exc.DBAPIError) else None
        error = orig if isinstance(orig, BaseException) else error.__cause__
    return False


def sqlite_file(url: str) -> str | None:
    """The file a SQLite URL names; None for other engines and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("mode") == "memory":
        return None
    return parsed.database


def events_file(database_file: str) -> str:
    """The replay log's own file beside a SQLite database: ``holomate.db`` ->
    ``holomate.events.db``."""
    path = Path(database_file)
    return str(path.with_name(f"{path.stem}.events{path.suffix or '.db'}"))


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    # Pre-ping: after a database restart, a pooled connection that died is replaced at checkout
    # instead of failing the next request.
    kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": not url.startswith("sqlite")}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _sqlite_pragmas(engine)
        _roll_back_cancelled_sqlite_work(engine)
    return engine


def _roll_back_cancelled_sqlite_work(engine: AsyncEngine) -> None:
    """A statement cancelled while aiosqlite's thread runs it must not keep SQLite's lock.

    Cancelling a task in the middle of a write (a barge-in cancels the reply's tasks while they
    append to the event log; a device that leaves cancels its heartbeat) makes SQLAlchemy
    invalidate and hard-close the connection, yet its transaction stayed open and held the
    write lock for good: every later write waited out the busy timeout and failed "database is
    locked" (tests/store/test_cancelled_writes.py). A rollback queued on the connection's own
    thread before the close ends the transaction whatever the close does.
    """

    @event.listens_for(engine.sync_engine, "invalidate")
    def _on_invalidate(dbapi_conn: Any, _record: Any, _error: BaseException | None) -> None:
        driver = getattr(dbapi_conn, "driver_connection", None)
        raw = getattr(driver, "_connection", None)  # aiosqlite's sqlite3.Connection
        queue = getattr(driver, "_tx", None)  # its thread's work queue, run in order
        if raw is not None and queue is not None:
            queue.put_nowait((None, raw.rollback))


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside the one writer.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
