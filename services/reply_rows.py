"""A reply's row in the database: how its end is written, what its timings are, and the clean-up
of replies a dead process left streaming. ReplyService (services/replies/runner.py) decides when."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline.reply import ReplyOutcome
from store.base import utcnow
from store.models import Message, MessageStatus

STATUS_OF = {
    "complete": MessageStatus.COMPLETE,
    "interrupted": MessageStatus.INTERRUPTED,
    "failed": MessageStatus.FAILED,
}


def timings_of(
    outcome: ReplyOutcome,
    offset_ms: float,
    first_delta_ms: float | None,
    stt_ms: float | None,
    heard_until_ms: int | None,
) -> dict[str, int | None]:
    """The turn's timings in ms since the person's message arrived (the pipeline counts from
    its own start, ``offset_ms`` later)."""
    t = outcome.timings

    def shifted(value: float | None) -> int | None:
        return None if value is None else round(value + offset_ms)

    timings = {
        "stt_ms": None if stt_ms is None else round(stt_ms),
        "llm_first_token_ms": shifted(t.llm_first_token_ms),
        "first_delta_ms": None if first_delta_ms is None else round(first_delta_ms),
        "first_audio_ms": shifted(t.first_audio_ms),
        "first_viseme_ms": shifted(t.first_viseme_ms),
        "total_ms": shifted(t.total_ms),
        "audio_ms": sum(c.duration_ms for c in outcome.chunks),
    }
    if heard_until_ms is not None:
        timings["heard_until_ms"] = heard_until_ms
    return timings


async def save_end(
    session: AsyncSession,
    reply_id: int,
    outcome: ReplyOutcome,
    timings: dict[str, int | None],
) -> bool:
    """Write the reply's end; False when it is gone or no longer STREAMING (a sweeper that took
    its lease over has ended it)."""
    audio = [
        {
            "key": c.key,
            "seq": c.seq,
            "start_ms": c.start_ms,
            "duration_ms": c.duration_ms,
            "text": c.text,
            "mime_type": c.mime_type,
        }
        for c in outcome.chunks
    ]
    # Write first: on SQLite a transaction that reads and then writes fails at once
    # ("database is locked") when another connection wrote in between.
    saved = await session.execute(
        update(Message)
        .where(Message.id == reply_id, Message.status == MessageStatus.STREAMING)
        .values(
            text=outcome.text,
            status=STATUS_OF[outcome.status],
            completed_at=utcnow(),
            error_code=outcome.error_code,
            timings={k: v for k, v in timings.items() if v is not None},
            audio=audio,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    await session.commit()
    return bool(saved.rowcount)  # type: ignore[attr-defined]


async def fail_orphans(
    sessionmaker: async_sessionmaker[AsyncSession], older_than_s: int = 300
) -> None:
    """Replies with no lease (written by a version before leases) left streaming by a process
    that died: no reply takes five minutes."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    async with sessionmaker() as session:
        await session.execute(
            update(Message)
            .where(
                Message.status == MessageStatus.STREAMING,
                Message.lease_expires_at.is_(None),
                Message.created_at < cutoff,
            )
            .values(
                status=MessageStatus.FAILED, error_code="SERVER_RESTARTED", completed_at=utcnow()
            )
        )
        await session.commit()
