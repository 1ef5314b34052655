"""What a person has used against their plan's limits: the one place each figure is counted.

``billing`` shows these figures and ``services.quotas`` enforces the limits with the same
functions, so what a person sees as used is exactly what the next check counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.base import utcnow
from store.models import BillingSubscription, Companion, HologramDevice, Message, MessageRole


@dataclass(frozen=True, slots=True)
class UsageFigures:
    companions: int
    messages_today: int
    voice_ms_this_month: int
    devices: int


def day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime) -> datetime:
    return day_start(now).replace(day=1)


def next_day(now: datetime) -> datetime:
    return day_start(now) + timedelta(days=1)


def next_month(now: datetime) -> datetime:
    start = month_start(now)
    return (start + timedelta(days=32)).replace(day=1)


async def subscription(session: AsyncSession, user_id: int) -> BillingSubscription:
    row = await session.scalar(
        select(BillingSubscription).where(BillingSubscription.user_id == user_id)
    )
    if row is None:
        row = BillingSubscription(user_id=user_id, plan="free", status="active", provider="local")
        session.add(row)
        await session.flush()
    return row


async def usage(session: AsyncSession, user_id: int) -> UsageFigures:
    now = utcnow()
    return UsageFigures(
        companions=await companions(session, user_id),
        messages_today=await messages_today(session, user_id, now),
        voice_ms_this_month=await voice_ms_since(session, user_id, month_start(now)),
        devices=await devices(session, user_id),
    )


async def companions(session: AsyncSession, user_id: int) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Companion).where(Companion.owner_id == user_id)
    )
    return count or 0


async def messages_today(session: AsyncSession, user_id: int, now: datetime) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.author_id == user_id,
            Message.role == MessageRole.USER,
            Message.created_at >= day_start(now),
        )
    )
    return count or 0


async def devices(session: AsyncSession, user_id: int) -> int:
    """Paired devices still in use (an unpaired one frees its slot)."""
    count = await session.scalar(
        select(func.count())
        .select_from(HologramDevice)
        .where(HologramDevice.owner_id == user_id, HologramDevice.revoked_at.is_(None))
    )
    return count or 0


async def voice_ms_since(session: AsyncSession, user_id: int, since: datetime) -> int:
    """Voice time: the audio of replies to this person's messages plus the person's turns
    streamed in voice sessions (services/voice_sessions), both kept in ``Message.timings``.
    Summed by the database in one round trip: a busy month has thousands of rows."""
    spoken = select(_sum_of("audio_ms")).where(
        Message.role == MessageRole.COMPANION,
        Message.created_at >= since,
        Message.reply_to_id.in_(select(Message.id).where(Message.author_id == user_id)),
    )
    streamed = select(_sum_of("voice_in_ms")).where(
        Message.author_id == user_id,
        Message.role == MessageRole.USER,
        Message.created_at >= since,
    )
    row = (
        await session.execute(select(spoken.scalar_subquery(), streamed.scalar_subquery()))
    ).one()
    return int(row[0]) + int(row[1])


def _sum_of(timing: str) -> ColumnElement[int]:
    return func.coalesce(func.sum(Message.timings[timing].as_integer()), 0)
