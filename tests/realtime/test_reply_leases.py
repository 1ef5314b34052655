"""Owner leases in the database: one sweeper wins a dead owner's reply; a live owner keeps it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.reply_leases import REPLY_OWNER_LOST, ReplyLeases
from store.base import utcnow
from store.db import make_engine, make_sessionmaker
from store.models import Companion, Conversation, Message, MessageRole, MessageStatus, User


@pytest.fixture
async def sessions(
    database_url: str, clean_db: None
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def streaming_reply(
    sessions: async_sessionmaker[AsyncSession], leases: ReplyLeases, *, expired: bool
) -> int:
    async with sessions() as session:
        user = User(email="o@example.com", display_name="O", password_hash="x")
        session.add(user)
        await session.flush()
        companion = Companion(owner_id=user.id, name="C", traits=[])
        session.add(companion)
        await session.flush()
        conversation = Conversation(companion_id=companion.id, title="t")
        session.add(conversation)
        await session.flush()
        claimed_at = utcnow() - timedelta(seconds=leases.lease_s + 1 if expired else 0)
        reply = Message(
            conversation_id=conversation.id,
            role=MessageRole.COMPANION,
            text="",
            status=MessageStatus.STREAMING,
            **leases.claim(claimed_at),
        )
        session.add(reply)
        await session.commit()
        return reply.id


async def test_two_processes_sweeping_a_dead_owners_reply_fail_it_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    dead = ReplyLeases(sessions, lease_s=1.0)
    reply_id = await streaming_reply(sessions, dead, expired=True)
    first, second = ReplyLeases(sessions), ReplyLeases(sessions)

    won = await asyncio.gather(first.sweep(), second.sweep(), first.sweep())

    assert sorted(len(w) for w in won) == [0, 0, 1]  # exactly one ReplyFailed is published
    async with sessions() as session:
        row = await session.get_one(Message, reply_id)
    assert row.status == MessageStatus.FAILED and row.error_code == REPLY_OWNER_LOST
    assert await dead.renew([reply_id]) == {reply_id}  # a frozen owner learns it lost the reply


async def test_a_reply_whose_owner_keeps_renewing_is_never_swept(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    owner = ReplyLeases(sessions, lease_s=0.6, heartbeat_s=0.2)
    reply_id = await streaming_reply(sessions, owner, expired=False)
    other = ReplyLeases(sessions)

    for _ in range(6):  # three lease lengths
        await asyncio.sleep(owner.heartbeat_s)
        assert await owner.renew([reply_id]) == set()
        assert await other.sweep() == []

    async with sessions() as session:
        status = await session.scalar(select(Message.status).where(Message.id == reply_id))
    assert status == MessageStatus.STREAMING
