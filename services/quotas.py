"""Plan limits enforced before the work is done; the error says which limit and when it resets.

Each check reads the plan through ``effective_plan`` (so a lapsed payment stops counting once
its grace period ends) and counts exactly what ``billing`` reports as usage. Limit names are
the fields of the GraphQL ``PlanLimits`` type, so a client can show the matching figure.

A check and the write it allows run one person at a time: each check first locks the person's
row (``SELECT ... FOR UPDATE``, held until the caller commits), so on PostgreSQL two requests
racing for the last slot cannot both pass. SQLite has no row locks: there the second writer of
a racing pair is refused by the database ("database is locked") rather than let through.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.billing import effective_plan
from services.billing_usage import day_start, month_start, next_day, next_month, voice_ms_since
from services.errors import QuotaExceeded
from services.plans import PlanLimits, limits_for
from store.base import utcnow
from store.models import (
    BillingSubscription,
    Companion,
    HologramDevice,
    Message,
    MessageRole,
    User,
)


async def limits_now(session: AsyncSession, user_id: int, now: datetime) -> PlanLimits:
    """The limits that apply to this person at ``now`` (read-only: no row is created)."""
    sub = await session.scalar(
        select(BillingSubscription).where(BillingSubscription.user_id == user_id)
    )
    return limits_for(effective_plan(sub, now))


async def _one_at_a_time(session: AsyncSession, user_id: int) -> None:
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())


async def check_can_create_companion(session: AsyncSession, user_id: int) -> None:
    await _one_at_a_time(session, user_id)
    limits = await limits_now(session, user_id, utcnow())
    count = await session.scalar(
        select(func.count()).select_from(Companion).where(Companion.owner_id == user_id)
    )
    if (count or 0) >= limits.companions:
        raise QuotaExceeded("companions", limits.companions, None)


async def check_can_send_message(session: AsyncSession, user_id: int) -> None:
    await _one_at_a_time(session, user_id)
    now = utcnow()
    limits = await limits_now(session, user_id, now)
    count = await session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.author_id == user_id,
            Message.role == MessageRole.USER,
            Message.created_at >= day_start(now),
        )
    )
    if (count or 0) >= limits.messages_per_day:
        raise QuotaExceeded("messagesPerDay", limits.messages_per_day, next_day(now).isoformat())


async def check_can_use_voice(session: AsyncSession, user_id: int, extra_ms: int) -> None:
    """Refuse when the month's voice time is used up, or would be by ``extra_ms`` more."""
    now = utcnow()
    limits = await limits_now(session, user_id, now)
    allowed_ms = limits.voice_minutes_per_month * 60_000
    used_ms = await voice_ms_since(session, user_id, month_start(now))
    if used_ms >= allowed_ms or used_ms + max(extra_ms, 0) > allowed_ms:
        raise QuotaExceeded(
            "voiceMinutesPerMonth", limits.voice_minutes_per_month, next_month(now).isoformat()
        )


async def check_voice_message_length(session: AsyncSession, user_id: int, duration_ms: int) -> None:
    """Refuse a voice message longer than the plan allows, before any decoding."""
    limits = await limits_now(session, user_id, utcnow())
    if duration_ms > limits.voice_message_seconds * 1000:
        raise QuotaExceeded("voiceMessageSeconds", limits.voice_message_seconds, None)


async def check_can_add_device(session: AsyncSession, user_id: int) -> None:
    await _one_at_a_time(session, user_id)
    limits = await limits_now(session, user_id, utcnow())
    count = await session.scalar(
        select(func.count())
        .select_from(HologramDevice)
        .where(HologramDevice.owner_id == user_id, HologramDevice.revoked_at.is_(None))
    )
    if (count or 0) >= limits.devices:
        raise QuotaExceeded("devices", limits.devices, None)
