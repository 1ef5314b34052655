"""Housekeeping: reply audio older than the retention window, and expired export archives.

Audio is the bulkiest personal data we keep and the least needed later (the text stays), so an
operator can cap how long it lives with ``audio_retention_days``; 0 keeps it forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline.storage.base import BlobStorage
from store.base import utcnow
from store.models import DataExport, ExportStatus, Message

log = logging.getLogger("holomate.retention")
BATCH = 500


async def purge_old_audio(
    session: AsyncSession, storage: BlobStorage, now: datetime, retention_days: int
) -> int:
    """Delete the audio of messages older than ``retention_days``; return how many lost it."""
    if retention_days <= 0:
        return 0
    cutoff = now - timedelta(days=retention_days)
    has_audio = func.coalesce(cast(Message.audio, Text), "[]") != "[]"
    purged = 0
    while True:
        rows = (
            await session.scalars(
                select(Message)
                .where(Message.created_at < cutoff, has_audio)
                .order_by(Message.id)
                .limit(BATCH)
            )
        ).all()
        if not rows:
            return purged
        for message in rows:
            for chunk in message.audio or []:
                key = chunk.get("key") if isinstance(chunk, dict) else None
                if key:
                    await storage.delete_prefix(key)
            message.audio = []
        await session.commit()
        purged += len(rows)


async def purge_expired_exports(session: AsyncSession, storage: BlobStorage, now: datetime) -> int:
    """Delete archives whose link has expired: nobody can download them any more."""
    rows = (
        await session.scalars(
            select(DataExport).where(
                DataExport.status == ExportStatus.READY,
                DataExport.blob_key.is_not(None),
                DataExport.expires_at < now,
            )
        )
    ).all()
    for row in rows:
        if row.blob_key:
            await storage.delete_prefix(row.blob_key)
        row.blob_key = None
    await session.commit()
    return len(rows)


async def run_periodically(
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: BlobStorage,
    retention_days: int,
    interval_s: float,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """The lifespan's housekeeping loop; a failed round is logged and retried next interval.

    The first round waits a little, so start-up (and every test's app) is not slowed by it.
    """
    await asyncio.sleep(min(interval_s, 60.0))
    while True:
        try:
            async with sessionmaker() as session:
                audio = await purge_old_audio(session, storage, clock(), retention_days)
                exports = await purge_expired_exports(session, storage, clock())
            if audio or exports:
                log.info("retention: purged audio of %d messages, %d exports", audio, exports)
        except Exception:
            log.exception("retention round failed")
        await asyncio.sleep(interval_s)
