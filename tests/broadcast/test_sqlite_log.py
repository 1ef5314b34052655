"""The SQLite replay log's own file: appends made at once by two logs on one file (two worker
processes) chain each channel without holes; a file another process holds locked makes an
append wait without blocking the loop, then fail as unavailable; the log goes on after."""

from __future__ import annotations

import asyncio
import sqlite3
import time
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


async def test_a_locked_file_fails_the_append_and_the_log_recovers(tmp_path: Path) -> None:
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


async def test_an_append_waits_for_another_process_s_lock_without_blocking_the_loop(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "events.db")
    log = SqliteEventLog(path, busy_timeout_s=5)
    await log.append("conversation:1", "before")
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    waiting = asyncio.create_task(log.append("conversation:1", "while locked"))
    started = time.monotonic()
    for _ in range(20):  # the loop keeps turning while the append waits
        await asyncio.sleep(0.005)
    assert time.monotonic() - started < 1.0  # SQLite's own busy wait would hold it 5 s
    assert not waiting.done()
    blocker.execute("ROLLBACK")
    blocker.close()
    appended = await asyncio.wait_for(waiting, 1)
    entries = await log.read_after("conversation:1", LOG_START, 10)
    assert [e.payload for e in entries] == ["before", "while locked"]
    assert appended.cursor == entries[-1].cursor and appended.prev == entries[0].cursor
    await log.aclose()
