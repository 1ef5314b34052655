"""Which database errors mean "the database is away, try again" (SERVICE_UNAVAILABLE)."""

from __future__ import annotations

import sqlite3

import asyncpg.exceptions as pg
import pytest
from sqlalchemy import exc, text

from store.db import connection_lost, make_engine


@pytest.mark.parametrize(
    "error",
    [
        exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")),
        exc.DBAPIError("SELECT 1", {}, pg.ConnectionDoesNotExistError("closed mid-query")),
        exc.OperationalError("SELECT 1", {}, pg.CannotConnectNowError("starting up")),
        exc.DBAPIError("SELECT 1", {}, pg.AdminShutdownError("terminating connection")),
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError(104, "Connection reset by peer"),
    ],
    ids=["sqlite-locked", "pg-gone", "pg-starting", "pg-terminated", "refused", "reset"],
)
def test_a_lost_or_refused_connection_is_retryable(error: BaseException) -> None:
    assert connection_lost(error)


async def test_a_broken_statement_is_not_taken_for_a_lost_database() -> None:
    engine = make_engine("sqlite+aiosqlite:///:memory:")
    try:
        async with engine.connect() as conn:
            with pytest.raises(exc.OperationalError) as raised:
                await conn.execute(text("SELECT * FROM no_such_table"))
    finally:
        await engine.dispose()
    assert not connection_lost(raised.value)
    assert not connection_lost(ValueError("not a database error"))
