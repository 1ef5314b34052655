"""Plan limits enforced before the work is done; the error says which limit and when it resets.

Each check reads the plan through ``effective_plan`` (so a lapsed payment stops counting once
its grace period ends) and counts with ``services.billing_usage``, the functions ``billing``
shows usage with. Limit names are the fields of the GraphQL ``PlanLimits`` type, so a client
can show the matching figure.

Exact under racing requests: a check and the write it allows run one person at a time. Each
check first takes the person's turn, held until the caller commits or rolls back, and only then
counts, so the count includes every write a previous turn allowed:

- PostgreSQL: ``SELECT ... FOR UPDATE`` on the person's row (others wait for that row only);
  under READ COMMITTED each count after it sees what the previous turn committed.
- SQLite: a no-op ``UPDATE`` of the person's row as the transaction's first write takes the
  database's write lock (sqlite3's default transaction mode opens the transaction at the
  first write; reads before it ran outside any transaction, so there is no stale snapshot to
  upgrade). Other writers wait their turn within the busy timeout instead of being refused
  "database is locked" or let through. Issuing BEGIN at the first read would break this.

So 20 requests racing for 100 slots get exactly 100 through on both engines
(tests/realtime/test_racing_quotas.py). Call a check before the write it allows, in the same
session, and commit promptly after.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services import billing_usage
from services.billing import effective_plan
from services.billing_usage import month_start, next_day, next_month
from services.errors import QuotaExceeded
from services.plans import PlanLimits, limits_for
from store.base import utcnow
from store.models import BillingSubscription, Message, User

# A column no key or index involves: setting ``id`` would make SQLite check 13 child tables.
_SQLITE_TURN = text("UPDATE users SET display_name = display_name WHERE id = :user_id")


async def limits_now(session: AsyncSession, user_id: int, now: datetime) -> PlanLimits:
    """The limits that apply to this person at ``now`` (read-only: no row is created)."""
    sub = await session.scalar(
        select(BillingSubscription).where(BillingSubscription.user_id == user_id)
    )
    return limits_for(effective_plan(sub, now))


async def one_at_a_time(session: AsyncSession, user_id: int) -> None:
    """Wait for this person's turn; it lasts until the session's transaction ends."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(_SQLITE_TURN, {"user_id": user_id})
    else:
        await session.execute(select(User.id).where(User.id == user_id).with_for_update())


async def check_can_create_companion(session: AsyncSession, user_id: int) -> None:
    await one_at_a_time(session, user_id)
    limits = await limits_now(session, user_id, utcnow())
    if await billing_usage.companions(session, user_id) >= limits.companions:
        raise QuotaExceeded("companions", limits.companions, None)


async def check_can_send_message(session: AsyncSession, user_id: int) -> None:
    await one_at_a_time(session, user_id)
    now = utcnow()
    limits = await limits_now(session, user_id, now)
    if await billing_usage.messages_today(session, user_id, now) >= limits.messages_per_day:
        raise QuotaExceeded("messagesPerDay", limits.messages_per_day, next_day(now).isoformat())


async def check_can_use_voice(session: AsyncSession, user_id: int, extra_ms: int) -> None:
    """Refuse when the month's voice time is used up, or would be by ``extra_ms`` more."""
    now = utcnow()
    limits = await limits_now(session, user_id, now)
    allowed_ms = limits.voice_minutes_per_month * 60_000
    used_ms = await billing_usage.voice_ms_since(session, user_id, month_start(now))
    if used_ms >= allowed_ms or used_ms + max(extra_ms, 0) > allowed_ms:
        raise QuotaExceeded(
            "voiceMinutesPerMonth", limits.voice_minutes_per_month, next_month(now).isoformat()
        )


async def check_voice_message_length(session: AsyncSession, user_id: int, duration_ms: int) -> None:
    """Refuse a voice message longer than the plan allows, before any decoding."""
    limits = await limits_now(session, user_id, utcnow())
    if duration_ms > limits.voice_message_seconds * 1000:
        raise QuotaExceeded("voiceMessageSeconds", limits.voice_message_seconds, None)


async def spend_voice(
    session: AsyncSession, user_id: int, reply_id: int, total_ms: int, ahead_ms: int = 0
) -> int:
    """May this reply speak ``total_ms`` in all? Asked before a chunk of audio goes out beyond
    what the reply was granted; returns its new grant (0: no).

    Decided in the person's turn and recorded on the reply at once (its ``audio_ms``, which
    ``voice_ms_since`` counts while it streams), so replies speaking at the same time share
    what is left of the month exactly. While more than twice ``ahead_ms`` would be left, the
    grant runs ``ahead_ms`` past the ask, so a reply asks about once instead of once a
    sentence; its end records what it really said. The caller commits nothing else in this
    session.
    """
    await one_at_a_time(session, user_id)
    now = utcnow()
    limits = await limits_now(session, user_id, now)
    used_ms = await billing_usage.voice_ms_since(session, user_id, month_start(now))
    reply = await session.get(Message, reply_id)
    if reply is None:
        return 0
    timings = dict(reply.timings or {})
    others_ms = used_ms - int(timings.get("audio_ms", 0) or 0)
    left_ms = limits.voice_minutes_per_month * 60_000 - others_ms
    if total_ms > left_ms:
        await session.rollback()
        return 0
    granted = total_ms + ahead_ms if total_ms + 2 * ahead_ms <= left_ms else total_ms
    reply.timings = timings | {"audio_ms": granted}
    await session.commit()
    return granted


async def check_can_add_device(session: AsyncSession, user_id: int) -> None:
    await one_at_a_time(session, user_id)
    limits = await limits_now(session, user_id, utcnow())
    if await billing_usage.devices(session, user_id) >= limits.devices:
        raise QuotaExceeded("devices", limits.devices, None)
