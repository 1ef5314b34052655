"""The replay log of the embedded default: a SQLite file of its own, written by one thread.

Two costs made the log in the app's database slow. Through SQLAlchemy's asyncio layer an
append cost ~1.7 ms of CPU (a session, the pool, greenlet switches, six hops to aiosqlite's
thread), and a reply appends ~28 events. And it shared SQLite's one write lock with every turn
being accepted: under a burst of messages each append waited behind their transactions in
SQLite's sleeping busy handler, so the first words of a reply waited for other people's turns.

Here the log has its own file beside the database (no lock shared with the app), and one
thread owns a plain ``sqlite3`` connection to it: the appends queued while it writes go into
its next transaction together, and their callers are woken with one loop callback per batch
(~0.1 ms an append, `bench/log_append.py`). Reads and erasure run on the same thread, in order
with the appends. Several processes on one file take its write lock in turn
(``BEGIN IMMEDIATE``) and ``prev`` is read in the same transaction as the row it precedes. An
append whose caller was cancelled may still be written: the next entry's ``prev`` names it, so
a subscriber fills that gap from the log.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pipeline.broadcast.errors import CursorExpired, InvalidCursor, LogUnavailable
from pipeline.broadcast.log_base import LOG_START, Appended, LogEntry
from pipeline.broadcast.row_ids import PruneSchedule, row_cursor_key

BATCH_MAX = 256  # appends in one transaction; more wait for the next
_T = TypeVar("_T")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS event_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_event_log_channel_id ON event_log (channel, id);
"""


@dataclass(slots=True)
class _Append:
    channel: str
    payload: str
    prune: bool
    future: asyncio.Future[Any]


@dataclass(slots=True)
class _Call:
    work: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]


_Job = _Append | _Call


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
        self._max_len = max_len
        self._pruning = PruneSchedule(prune_every)
        self._writer = _Writer(path, max_len, busy_timeout_s)

    async def append(self, channel: str, payload: str) -> Appended:
        future: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        self._writer.submit(_Append(channel, payload, self._pruning.due(channel), future))
        return await future

    async def read_after(self, channel: str, after: str, limit: int) -> list[LogEntry]:
        (after_id,) = self.cursor_key(after)

        def read(conn: sqlite3.Connection) -> list[LogEntry]:
            if after_id:
                # Rows go by pruning (oldest first) or erasure: a missing row may have had
                # successors that went with it.
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
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("DELETE FROM event_log WHERE channel = ?", [(c,) for c in channels])
            conn.executemany(
                "DELETE FROM event_log WHERE channel = ? AND instr(payload, ?) > 0",
                [(c, marker) for c in scrub],
            )
            conn.execute("COMMIT")

        await self._call(forget)

    async def prune_all(self) -> int:
        """Trim every channel to ``max_len`` rows (for a periodic job: quiet channels too)."""

        def prune(conn: sqlite3.Connection) -> int:
            conn.execute("BEGIN IMMEDIATE")
            gone = conn.execute(
                "DELETE FROM event_log WHERE id IN (SELECT id FROM (SELECT id, row_number()"
                " OVER (PARTITION BY channel ORDER BY id DESC) AS rn FROM event_log)"
                " WHERE rn > ?)",
                (self._max_len,),
            ).rowcount
            conn.execute("COMMIT")
            return int(gone)

        return await self._call(prune)

    def close(self) -> None:
        """Write what is queued, then stop the writer (blocks: for synchronous teardown)."""
        self._writer.stop()

    async def aclose(self) -> None:
        await asyncio.to_thread(self._writer.stop)

    async def _call(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        future: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        self._writer.submit(_Call(work, future))
        return await future

    def _maybe_pruned(self, conn: sqlite3.Connection, channel: str) -> bool:
        """Whether the channel's first entries may be gone: pruning leaves ``max_len`` rows,
        and a channel only grows from there, so one that never held that many never lost any.
        (A full channel that was never pruned expires too: the safe side.)"""
        nth = conn.execute(
            "SELECT id FROM event_log WHERE channel = ? ORDER BY id LIMIT 1 OFFSET ?",
            (channel, self._max_len - 1),
        ).fetchone()
        return nth is not None


class _Writer:
    """One thread, one connection; queued appends share a transaction, other work runs in
    order between them."""

    def __init__(self, path: str, max_len: int, busy_timeout_s: float) -> None:
        self._path = path
        self._max_len = max_len
        self._busy_timeout_s = busy_timeout_s
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._held: list[_Job | None] = []  # taken off the queue, not yet run (a batch's end)

    def submit(self, job: _Job) -> None:
        with self._lock:
            if self._thread is None:  # started at first use: after any fork of workers
                self._thread = threading.Thread(
                    target=self._run, name="event-log-writer", daemon=True
                )
                self._thread.start()
        self._queue.put(job)

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        while True:
            job = self._next()
            if job is None:
                break
            jobs: list[_Job] = self._batch(job) if isinstance(job, _Append) else [job]
            outcomes: list[object]
            try:
                if conn is None:
                    conn = self._connect()
                if isinstance(job, _Call):
                    outcomes = [job.work(conn)]
                else:
                    outcomes = self._appended(conn, jobs)
            except Exception as e:  # noqa: BLE001 - the thread must outlive any failure
                conn = _rolled_back(conn)
                outcomes = [_as_log_error(e)] * len(jobs)
            _settle(jobs, outcomes)
        if conn is not None:
            conn.close()

    def _next(self) -> _Job | None:
        if self._held:
            return self._held.pop()
        return self._queue.get()

    def _batch(self, first: _Append) -> list[_Job]:
        batch: list[_Job] = [first]
        while len(batch) < BATCH_MAX:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if not isinstance(job, _Append):
                self._held.append(job)  # a read, an erasure or the stop: after this batch
                break
            batch.append(job)
        return batch

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path, timeout=self._busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        return conn

    def _appended(self, conn: sqlite3.Connection, batch: Sequence[_Job]) -> list[object]:
        outcomes: list[object] = []
        last: dict[str, int] = {}  # the batch's own newest id per channel: its next prev
        conn.execute("BEGIN IMMEDIATE")
        for job in batch:
            assert isinstance(job, _Append)
            (new_id,) = conn.execute(
                "INSERT INTO event_log (channel, payload) VALUES (?, ?) RETURNING id",
                (job.channel, job.payload),
            ).fetchone()
            prev = last.get(job.channel)
            if prev is None:
                (prev,) = conn.execute(
                    "SELECT max(id) FROM event_log WHERE channel = ? AND id < ?",
                    (job.channel, new_id),
                ).fetchone()
            last[job.channel] = new_id
            outcomes.append(Appended(str(new_id), LOG_START if prev is None else str(prev)))
            if job.prune:
                conn.execute(
                    "DELETE FROM event_log WHERE channel = ?1 AND id <= (SELECT id FROM"
                    " event_log WHERE channel = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                    (job.channel, self._max_len),
                )
        conn.execute("COMMIT")
        return outcomes


def _as_log_error(error: Exception) -> Exception:
    """What a caller gets: the log's own answers as they are, anything else as unavailable."""
    if isinstance(error, (CursorExpired, InvalidCursor, LogUnavailable)):
        return error
    return LogUnavailable(f"the event log failed: {error}")


def _rolled_back(conn: sqlite3.Connection | None) -> sqlite3.Connection | None:
    """The connection with its failed transaction ended, or None to reconnect next time."""
    if conn is None or not conn.in_transaction:
        return conn
    try:
        conn.rollback()
    except sqlite3.Error:
        conn.close()
        return None
    return conn


def _settle(jobs: Sequence[_Job], outcomes: Sequence[object]) -> None:
    """Hand each outcome to its caller's loop: one thread-safe callback per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Job, object]]] = {}
    for job, outcome in zip(jobs, outcomes, strict=True):
        by_loop.setdefault(job.future.get_loop(), []).append((job, outcome))
    for loop, pairs in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve, pairs)
        except RuntimeError:
            pass  # the loop closed: nobody waits any more


def _resolve(pairs: Sequence[tuple[_Job, object]]) -> None:
    for job, outcome in pairs:
        if job.future.done():
            continue  # its caller was cancelled
        if isinstance(outcome, Exception):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)
