"""The replay log of the embedded default: a SQLite file of its own, written from the loop.

Two costs made the log in the app's database slow. Through SQLAlchemy's asyncio layer an
append cost ~1.3 ms of CPU (a session, the pool, greenlet switches, six hops to aiosqlite's
thread), and a reply appends ~28 events. And it shared SQLite's one write lock with every turn
being accepted: under a burst of messages each append waited behind their transactions in
SQLite's sleeping busy handler, so the first words of a reply waited for other people's turns.

Here the log has its own file beside the database (no lock shared with the app) and a plain
``sqlite3`` connection used on the event loop's thread: an append is one short WAL transaction
(~50 µs, no fsync with ``synchronous=NORMAL``; `bench/log_append.py`). Not a thread of its own:
a writer thread running beside the fan-out took the GIL at every socket write's release and
doubled the CPU of delivering to 1,000 sockets. The connection never waits inside SQLite
(``timeout=0``): when another process holds the file's write lock, the append yields to the
loop and tries again, for up to ``busy_timeout_s``. Several processes on one file take the lock
in turn (``BEGIN IMMEDIATE``), and ``prev`` is read in the same transaction as its row.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from pipeline.broadcast.errors import CursorExpired, LogUnavailable
from pipeline.broadcast.log_base import ERASED, LOG_START, Appended, LogEntry
from pipeline.broadcast.row_ids import PruneSchedule, row_cursor_key

_T = TypeVar("_T")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS event_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_event_log_channel_id ON event_log (channel, id);
"""


class SqliteEventLog:
    def __init__(
        self,
        path: str,
        max_len: int = 1000,
        *,
        prune_every: int = 100,
        busy_timeout_s: float = 30.0,
    ) -> None:
        if max_len < 1 or prune_every < 1:
            raise ValueError("max_len and prune_every must be positive")
        self._path = path
        self._max_len = max_len
        self._busy_timeout_s = busy_timeout_s
        self._pruning = PruneSchedule(prune_every)
        self._conn: sqlite3.Connection | None = None

    async def append(self, channel: str, payload: str) -> Appended:
        prune = self._pruning.due(channel)

        def write(conn: sqlite3.Connection) -> Appended:
            with _transaction(conn):
                (new_id,) = conn.execute(
                    "INSERT INTO event_log (channel, payload) VALUES (?, ?) RETURNING id",
                    (channel, payload),
                ).fetchone()
                (prev,) = conn.execute(
                    "SELECT max(id) FROM event_log WHERE channel = ? AND id < ?",
                    (channel, new_id),
                ).fetchone()
                if prune:
                    conn.execute(
                        "DELETE FROM event_log WHERE channel = ?1 AND id <= (SELECT id FROM"
                        " event_log WHERE channel = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                        (channel, self._max_len),
                    )
            return Appended(str(new_id), LOG_START if prev is None else str(prev))

        return await self._call(write)

    async def read_after(self, channel: str, after: str, limit: int) -> list[LogEntry]:
        (after_id,) = self.cursor_key(after)

        def read(conn: sqlite3.Connection) -> list[LogEntry]:
            if after_id:
                # Rows go by pruning (oldest first) or with their channel (erasure): a
                # missing row may have had successors that went with it.
                found = conn.execute(
                    "SELECT 1 FROM event_log WHERE channel = ? AND id = ?", (channel, after_id)
                ).fetchone()
                if found is None:
                    raise CursorExpired(channel, after)
            elif self._maybe_pruned(conn, channel):
                raise CursorExpired(channel, after)
            rows = conn.execute(
                "SELECT id, payload FROM event_log WHERE channel = ? AND id > ?"
                " ORDER BY id LIMIT ?",
                (channel, after_id, limit),
            ).fetchall()
            return [LogEntry(str(row_id), payload) for row_id, payload in rows]

        return await self._call(read)

    async def tail(self, channel: str) -> str:
        def newest(conn: sqlite3.Connection) -> str:
            (found,) = conn.execute(
                "SELECT max(id) FROM event_log WHERE channel = ?", (channel,)
            ).fetchone()
            return LOG_START if found is None else str(found)

        return await self._call(newest)

    def cursor_key(self, cursor: str) -> tuple[int, ...]:
        return row_cursor_key(cursor)

    async def erase(self, channels: Sequence[str], scrub: Sequence[str], marker: str) -> None:
        def forget(conn: sqlite3.Connection) -> None:
            with _transaction(conn):
                conn.executemany(
                    "DELETE FROM event_log WHERE channel = ?", [(c,) for c in channels]
                )
                conn.executemany(
                    "UPDATE event_log SET payload = ? WHERE channel = ? AND instr(payload, ?) > 0",
                    [(ERASED, c, marker) for c in scrub],
                )

        await self._call(forget)

    async def prune_all(self) -> int:
        """Trim every channel to ``max_len`` rows (for a periodic job: quiet channels too)."""

        def prune(conn: sqlite3.Connection) -> int:
            with _transaction(conn):
                gone = conn.execute(
                    "DELETE FROM event_log WHERE id IN (SELECT id FROM (SELECT id, row_number()"
                    " OVER (PARTITION BY channel ORDER BY id DESC) AS rn FROM event_log)"
                    " WHERE rn > ?)",
                    (self._max_len,),
                ).rowcount
            return int(gone)

        return await self._call(prune)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def aclose(self) -> None:
        self.close()

    async def _call(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``work`` now; while another process holds the file's write lock, yield to the
        loop and try again (SQLite's own busy handler would sleep on the loop's thread)."""
        deadline = time.monotonic() + self._busy_timeout_s
        delay = 0.001
        while True:
            try:
                return work(self._connection())
            except sqlite3.OperationalError as e:
                if not _busy(e) or time.monotonic() + delay > deadline:
                    self.close()  # a failed connection is opened anew next time
                    raise LogUnavailable(f"the event log failed: {e}") from e
            except sqlite3.Error as e:
                self.close()
                raise LogUnavailable(f"the event log failed: {e}") from e
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, timeout=0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    def _maybe_pruned(self, conn: sqlite3.Connection, channel: str) -> bool:
        """Whether the channel's first entries may be gone: pruning leaves ``max_len`` rows,
        and a channel only grows from there, so one that never held that many never lost any.
        (A full channel that was never pruned expires too: the safe side.)"""
        nth = conn.execute(
            "SELECT id FROM event_log WHERE channel = ? ORDER BY id LIMIT 1 OFFSET ?",
            (channel, self._max_len - 1),
        ).fetchone()
        return nth is not None


def _busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(error)


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` (the write lock now, or SQLITE_BUSY at once) ... ``COMMIT``."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    conn.execute("COMMIT")
