"""The SQLite replay log's own file and writer thread: appends made at once (one batch, one
transaction) and by two logs on one file (two worker processes) still chain each channel without
holes; a locked file fails an append, not the writer."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from pipeline.broadcast import LOG_START, LogUnavailable
from pipeline.broadcast.log_sqlite import SqliteEventLog


async def test_appends_made_at_once_chain_every_channel_in_order(tmp_path: Path) -> None:
    first = SqliteEventLog(str(tmp_path / "events.db"), 10_000)
    second = SqliteEventLog(str(tmp_path / "events.db"), 10_000)
    try:
        appends = [
            log.append(f"conversation:{i % 7}", f"{i}")
            for i in range(400)
            for log in (first, second)
        ]
        done = await asyncio.gather(*appends)
        for channel in (f"conversation:{c}" for c in range(7)):
            entries = await first.read_after(channel, LOG_START, 1000)
            mine = {a.cursor: a for a in done if a.cursor in {e.cursor for e in entries}}
            assert len(mine) == len(entries) > 0
            expected_prev = LOG_START
            for entry in entries:  # each entry's prev is the one before it on its channel
                assert mine[entry.cursor].prev == expected_prev
                expected_prev = entry.cursor
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_locked_file_fails_the_append_and_the_writer_recovers(tmp_path: Path) -> None:
    path = str(tmp_path / "events.db")
    log = SqliteEventLog(path, busy_timeout_s=0.05)
    await log.append("conversation:1", "before")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with pytest.raises(LogUnavailable):
            await log.append("conversation:1", "while locked")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    after = await log.append("conversation:1", "after")
    assert [e.payload for e in await log.read_after("conversation:1", LOG_START, 10)] == [
        "before",
        "after",
    ]
    assert after.prev != LOG_START
    await log.aclose()
