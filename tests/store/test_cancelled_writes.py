"""A write cancelled halfway (a barge-in, a device that leaves) leaves SQLite writable.

Before the fix, one cancelled statement in a few dozen left its connection holding SQLite's
write lock for good, and every later write failed "database is locked" after the busy timeout
(a reply interrupted on the embedded default then never saved).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from pipeline.broadcast.log_sql import SqlEventLog
from store.db import make_engine, make_sessionmaker

CANCELLATIONS = 200


async def test_writes_go_on_after_many_writes_were_cancelled_midway(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'holomate.db'}")
    sessions = make_sessionmaker(engine)
    log = SqlEventLog(sessions)
    async with engine.begin() as conn:
        await conn.run_sync(log.table.metadata.create_all)

    async def plain_write() -> None:
        async with sessions() as session:
            await session.execute(log.table.insert().values(channel="other", payload="x"))
            await session.execute(text("SELECT count(*) FROM broadcast_event_log"))
            await session.commit()

    try:
        for i in range(CANCELLATIONS):
            work = log.append("conversation:1", "delta") if i % 2 else plain_write()
            task = asyncio.ensure_future(work)
            await asyncio.sleep((i % 9) * 0.0005)  # lands at a different point each time
            task.cancel()
            await asyncio.wait({task}, timeout=0.05)
            async with sessions() as session:
                await session.execute(text("PRAGMA busy_timeout=1000"))  # not the default 30 s
                await session.execute(log.table.insert().values(channel="check", payload=str(i)))
                await session.commit()
        async with sessions() as session:
            checks = await session.scalar(
                text("SELECT count(*) FROM broadcast_event_log WHERE channel = 'check'")
            )
        assert checks == CANCELLATIONS
    finally:
        await engine.dispose()
