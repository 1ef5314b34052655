"""What a person has used against their plan's limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
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
    companions = await session.scalar(
        select(func.count()).select_from(Companion).where(Companion.owner_id == user_id)
    )
    messages = await session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.author_id == user_id,
            Message.role == MessageRole.USER,
            Message.created_at >= day_start(now),
        )
    )
    devices = await session.scalar(
        select(func.count())
        .select_from(HologramDevice)
        .where(HologramDevice.owner_id == user_id, HologramDevice.revoked_at.is_(None))
    )
    voice_ms = await voice_ms_since(session, user_id, month_start(now))
    return UsageFigures(
        companions=companions or 0,
        messages_today=messages or 0,
        voice_ms_this_month=voice_ms,
        devices=devices or 0,
    )


async def voice_ms_since(session: AsyncSession, user_id: int, since: datetime) -> int:
    # Voice time is the audio of replies to this person's messages, kept in Message.timings.
    rows = await session.scalars(
        select(Message.timings).where(
            Message.role == MessageRole.COMPANION,
            Message.created_at >= since,
            Message.reply_to_id.in_(select(Message.id).where(Message.author_id == user_id)),
        )
    )
    return sum(int((t or {}).get("audio_ms", 0) or 0) for t in rows.all())
