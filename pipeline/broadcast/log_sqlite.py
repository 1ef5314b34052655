"""The SQL event log on a SQLite file, its appends written by a thread of its own, group-committed.

Through SQLAlchemy's asyncio layer an append cost ~1.7 ms of CPU (a session, the pool, greenlet
switches and six hops to aiosqlite's thread for two statements and a commit), and a reply
appends ~28 events: half of a reply's server CPU. Here one thread owns a plain ``sqlite3``
connection; the appends queued while it writes go into its next transaction together, and their
callers are woken with one loop callback per batch (~0.1 ms an append, `bench/log_append.py`).

Appends still take SQLite's write lock (``BEGIN IMMEDIATE``), so other processes on the same
file interleave safely and ``prev`` is read in the same transaction as the row it precedes.
An append whose caller was cancelled may still be written: the next entry's ``prev`` names it,
so a subscriber fills that gap from the log. Reads, erasure and pruning of quiet channels stay
on SQLAlchemy (``SqlEventLog``); they are rare.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline.broadcast.errors import LogUnavailable
from pipeline.broadcast.log_base import LOG_START, Appended
from pipeline.broadcast.log_sql import SqlEventLog

BATCH_MAX = 256  # appends in one transaction; more wait for the next


@dataclass(slots=True)
class _Append:
    channel: str
    payload: str
    prune: bool
    future: asyncio.Future[Appended]


_Outcome = Appended | LogUnavailable


class SqliteEventLog(SqlEventLog):
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        path: str,
        max_len: int = 1000,
        *,
        table: Table | None = None,
        prune_every: int = 100,
        busy_timeout_s: float = 30.0,
    ) -> None:
        super().__init__(sessionmaker, max_len, table=table, prune_every=prune_every)
        self._writer = _Writer(path, self.table.name, max_len, busy_timeout_s)

    async def append(self, channel: str, payload: str) -> Appended:
        future: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        self._writer.submit(_Append(channel, payload, self._due_for_pruning(channel), future))
        return await future

    def close(self) -> None:
        """Write what is queued, then stop the writer (blocks: for synchronous teardown)."""
        self._writer.stop()

    async def aclose(self) -> None:
        await asyncio.to_thread(self._writer.stop)


class _Writer:
    """One thread, one connection, one transaction per batch of queued appends."""

    def __init__(self, path: str, table: str, max_len: int, busy_timeout_s: float) -> None:
        self._path = path
        self._max_len = max_len
        self._busy_timeout_s = busy_timeout_s
        self._queue: queue.SimpleQueue[_Append | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        quoted = '"' + table.replace('"', '""') + '"'
        self._insert = f"INSERT INTO {quoted} (channel, payload) VALUES (?, ?) RETURNING id"
        self._prev = f"SELECT max(id) FROM {quoted} WHERE channel = ? AND id < ?"
        self._prune = (
            f"DELETE FROM {quoted} WHERE channel = ?1 AND id <= (SELECT id FROM {quoted}"
            " WHERE channel = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)"
        )

    def submit(self, item: _Append) -> None:
        with self._lock:
            if self._thread is None:  # started at first use: after any fork of workers
                self._thread = threading.Thread(
                    target=self._run, name="event-log-writer", daemon=True
                )
                self._thread.start()
        self._queue.put(item)

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        while True:
            batch, stopping = self._next_batch()
            if batch:
                try:
                    if conn is None:
                        conn = self._connect()
                    outcomes = self._write(conn, batch)
                except Exception as e:  # noqa: BLE001 - the thread must outlive any failure
                    conn = _rolled_back(conn)
                    failed = LogUnavailable(f"cannot append to the event log: {e}")
                    outcomes = [failed] * len(batch)
                _settle(batch, outcomes)
            if stopping:
                if conn is not None:
                    conn.close()
                return

    def _next_batch(self) -> tuple[list[_Append], bool]:
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        while len(batch) < BATCH_MAX:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path, timeout=self._busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _write(self, conn: sqlite3.Connection, batch: Sequence[_Append]) -> list[_Outcome]:
        outcomes: list[_Outcome] = []
        last: dict[str, int] = {}  # the batch's own newest id per channel: its next prev
        conn.execute("BEGIN IMMEDIATE")
        for item in batch:
            (new_id,) = conn.execute(self._insert, (item.channel, item.payload)).fetchone()
            prev = last.get(item.channel)
            if prev is None:
                (prev,) = conn.execute(self._prev, (item.channel, new_id)).fetchone()
            last[item.channel] = new_id
            outcomes.append(Appended(str(new_id), LOG_START if prev is None else str(prev)))
            if item.prune:
                conn.execute(self._prune, (item.channel, self._max_len))
        conn.execute("COMMIT")
        return outcomes


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


def _settle(batch: Sequence[_Append], outcomes: Sequence[_Outcome]) -> None:
    """Hand each outcome to its caller's loop: one thread-safe callback per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Append, _Outcome]]] = {}
    for item, outcome in zip(batch, outcomes, strict=True):
        by_loop.setdefault(item.future.get_loop(), []).append((item, outcome))
    for loop, pairs in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve, pairs)
        except RuntimeError:
            pass  # the loop closed: nobody waits any more


def _resolve(pairs: Sequence[tuple[_Append, _Outcome]]) -> None:
    for item, outcome in pairs:
        if item.future.done():
            continue  # its caller was cancelled
        if isinstance(outcome, LogUnavailable):
            item.future.set_exception(outcome)
        else:
            item.future.set_result(outcome)
