"""The event log in the application's SQL database (SQLite or PostgreSQL), on SQLAlchemy Core.

Replay then survives restarts of a single-server deployment with no Redis. Cursors are row ids.
Appends to one channel are serialised (SQLite has one writer; PostgreSQL takes a per-channel
advisory lock), so ids commit in order and a reader never sees a later id before an earlier one.
A resume never replays with holes: from a row, only while that row is kept (what follows it is
then whole; an erased person's rows stay, redacted); from ``LOG_START``, only while nothing was
pruned.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline.broadcast.errors import CursorExpired, LogUnavailable
from pipeline.broadcast.log_base import ERASED, LOG_START, Appended, LogEntry
from pipeline.broadcast.row_ids import PruneSchedule, row_cursor_key

CHANNEL_MAX_LEN = 128


def event_log_table(metadata: MetaData, name: str = "broadcast_event_log") -> Table:
    """The table, for the app's metadata and Alembic. (channel, id) serves every query."""
    return Table(
        name,
        metadata,
        Column(
            "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
        Column("channel", String(CHANNEL_MAX_LEN), nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index(f"ix_{name}_channel_id", "channel", "id"),
    )


class SqlEventLog:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        max_len: int = 1000,
        *,
        table: Table | None = None,
        prune_every: int = 100,
    ) -> None:
        if max_len < 1 or prune_every < 1:
            raise ValueError("max_len and prune_every must be positive")
        self._sessionmaker = sessionmaker
        self._max_len = max_len
        self.table = table if table is not None else event_log_table(MetaData())
        self._pruning = PruneSchedule(prune_every)

    async def append(self, channel: str, payload: str) -> Appended:
        t = self.table
        try:
            async with self._sessionmaker() as session, session.begin():
                if session.get_bind().dialect.name == "postgresql":
                    key = func.hashtextextended(channel, 0)
                    await session.execute(select(func.pg_advisory_xact_lock(key)))
                new_id = await session.scalar(
                    insert(t).values(channel=channel, payload=payload).returning(t.c.id)
                )
                if new_id is None:
                    raise LogUnavailable(f"append to {channel!r} returned no id")
                prev = await session.scalar(
                    select(func.max(t.c.id)).where(t.c.channel == channel, t.c.id < new_id)
                )
                if self._pruning.due(channel):
                    await self._prune(session, channel)
        except (OperationalError, DBAPIError, OSError) as e:
            raise LogUnavailable(f"cannot append to {channel!r}: {e}") from e
        return Appended(cursor=str(new_id), prev=LOG_START if prev is None else str(prev))

    async def erase(self, channels: Sequence[str], scrub: Sequence[str], marker: str) -> None:
        t = self.table
        try:
            async with self._sessionmaker() as session, session.begin():
                if channels:
                    await session.execute(delete(t).where(t.c.channel.in_(channels)))
                if scrub:
                    await session.execute(
                        update(t)
                        .where(
                            t.c.channel.in_(scrub), t.c.payload.contains(marker, autoescape=True)
                        )
                        .values(payload=ERASED)
                    )
        except (OperationalError, DBAPIError, OSError) as e:
            raise LogUnavailable(f"cannot erase from the replay log: {e}") from e

    async def read_after(self, channel: str, after: str, limit: int) -> list[LogEntry]:
        (after_id,) = self.cursor_key(after)
        t = self.table
        try:
            async with self._sessionmaker() as session:
                if after_id:
                    # Rows go by pruning (oldest first) or with their channel (erasure): a
                    # missing row may have had successors that went with it.
                    exists = await session.scalar(
                        select(t.c.id).where(t.c.channel == channel, t.c.id == after_id)
                    )
                    if exists is None:
                        raise CursorExpired(channel, after)
                elif await self._maybe_pruned(session, channel):
                    raise CursorExpired(channel, after)
                rows = await session.execute(
                    select(t.c.id, t.c.payload)
                    .where(t.c.channel == channel, t.c.id > after_id)
                    .order_by(t.c.id)
                    .limit(limit)
                )
                return [LogEntry(str(row_id), payload) for row_id, payload in rows]
        except (OperationalError, DBAPIError, OSError) as e:
            raise LogUnavailable(f"cannot read {channel!r}: {e}") from e

    async def tail(self, channel: str) -> str:
        t = self.table
        try:
            async with self._sessionmaker() as session:
                newest = await session.scalar(
                    select(func.max(t.c.id)).where(t.c.channel == channel)
                )
        except (OperationalError, DBAPIError, OSError) as e:
            raise LogUnavailable(f"cannot read {channel!r}: {e}") from e
        return LOG_START if newest is None else str(newest)

    def cursor_key(self, cursor: str) -> tuple[int, ...]:
        return row_cursor_key(cursor)

    async def prune_all(self) -> int:
        """Trim every channel to ``max_len`` rows (for a periodic job: quiet channels too)."""
        t = self.table
        ranked = select(
            t.c.id,
            func.row_number().over(partition_by=t.c.channel, order_by=t.c.id.desc()).label("rn"),
        ).subquery()
        doomed = select(ranked.c.id).where(ranked.c.rn > self._max_len)
        async with self._sessionmaker() as session, session.begin():
            result = await session.execute(delete(t).where(t.c.id.in_(doomed)))
        return int(getattr(result, "rowcount", 0) or 0)

    async def aclose(self) -> None:
        return None

    async def _maybe_pruned(self, session: AsyncSession, channel: str) -> bool:
        """Whether the channel's first entries may be gone: pruning leaves ``max_len`` rows,
        and a channel only grows from there, so one that never held that many never lost any.
        (A full channel that was never pruned expires too: the safe side.)"""
        t = self.table
        nth = await session.scalar(
            select(t.c.id)
            .where(t.c.channel == channel)
            .order_by(t.c.id)
            .offset(self._max_len - 1)
            .limit(1)
        )
        return nth is not None

    async def _prune(self, session: AsyncSession, channel: str) -> None:
        t = self.table
        boundary = await session.scalar(
            select(t.c.id)
            .where(t.c.channel == channel)
            .order_by(t.c.id.desc())
            .offset(self._max_len)
            .limit(1)
        )
        if boundary is not None:
            await session.execute(delete(t).where(t.c.channel == channel, t.c.id <= boundary))
