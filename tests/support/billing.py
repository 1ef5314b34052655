"""Put a person on a plan, or spend part of it, directly: for tests about something other than
paying."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import billing_usage
from store.models import Message, MessageRole, MessageStatus, User


async def grant_plan(app: Any, email: str, plan: str) -> None:
    async with app.state.holo.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.email == email))
        assert user is not None, email
        sub = await billing_usage.subscription(session, user.id)
        sub.plan, sub.status = plan, "active"
        await session.commit()


async def spent_voice(
    app: Any, conversation_pk: int, audio_ms: int, *, asked_before_today: bool = False
) -> None:
    """As if Ada (user 1) had heard ``audio_ms`` of her companion's voice this month in this
    conversation. ``asked_before_today``: her question is dated long ago, so it takes none of
    today's messages."""
    async with app.state.holo.sessionmaker() as session:
        await record_heard_voice(session, conversation_pk, 1, audio_ms, asked_before_today)


async def record_heard_voice(
    session: AsyncSession,
    conversation_pk: int,
    author_id: int,
    audio_ms: int,
    asked_before_today: bool = False,
) -> None:
    """A question of ``author_id`` answered with ``audio_ms`` of the companion's voice."""
    earlier = Message(
        conversation_id=conversation_pk,
        author_id=author_id,
        role=MessageRole.USER,
        text="earlier",
        status=MessageStatus.COMPLETE,
    )
    session.add(earlier)
    await session.flush()
    session.add(
        Message(
            conversation_id=conversation_pk,
            role=MessageRole.COMPANION,
            text="a long talk",
            status=MessageStatus.COMPLETE,
            reply_to_id=earlier.id,
            timings={"audio_ms": audio_ms},
        )
    )
    if asked_before_today:
        earlier.created_at = earlier.created_at.replace(year=2000)
    await session.commit()
