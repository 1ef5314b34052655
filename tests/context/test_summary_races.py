"""Two turns ending at once fold the same history: one summary wins, none is written twice, and
a reply still streaming stops the fold (services/summaries.py on the real database)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline.llm.base import ChatMessage
from services.summaries import Summaries, history_room
from services.turn_context import ContextConfig
from store.models import (
    Companion,
    Conversation,
    Message,
    MessageRole,
    MessageStatus,
    User,
)

SMALL = ContextConfig(context_tokens=512, reply_tokens=128)


class BothAtOnce:
    """A model that answers only once two summaries were asked of it (both folds read first)."""

    name = "both-at-once"

    def __init__(self) -> None:
        self.asked = 0
        self.both = asyncio.Event()

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        self.asked += 1
        if self.asked == 2:
            self.both.set()
        await asyncio.wait_for(self.both.wait(), 5)
        yield f"Summary number {self.asked}."


async def _conversation(
    sessions: async_sessionmaker[AsyncSession], statuses: list[MessageStatus]
) -> int:
    async with sessions() as session:
        ada = User(email="ada@example.com", display_name="Ada", password_hash="x")
        session.add(ada)
        await session.flush()
        nova = Companion(owner_id=ada.id, name="Nova", traits=[])
        session.add(nova)
        await session.flush()
        conversation = Conversation(companion_id=nova.id, created_by_id=ada.id, title="t")
        session.add(conversation)
        await session.flush()
        for i, status in enumerate(statuses):
            session.add(
                Message(
                    conversation_id=conversation.id,
                    author_id=ada.id if i % 2 == 0 else None,
                    role=MessageRole.USER if i % 2 == 0 else MessageRole.COMPANION,
                    text=f"I planted {i} tomato seedlings in the Lisbon garden today." * 2,
                    status=status,
                )
            )
        await session.commit()
        return conversation.id


async def test_concurrent_folds_write_one_summary(app: Any) -> None:
    sessions = app.state.holo.sessionmaker
    conversation_id = await _conversation(sessions, [MessageStatus.COMPLETE] * 20)
    model = BothAtOnce()
    summaries = Summaries(sessions, SMALL, model)

    results = await asyncio.gather(summaries.fold(conversation_id), summaries.fold(conversation_id))

    assert sorted(results) == [False, True]
    async with sessions() as session:
        conversation = await session.get_one(Conversation, conversation_id)
    assert conversation.summary in ("Summary number 1.", "Summary number 2.")
    assert conversation.summary_through_id is not None


async def test_a_reply_still_streaming_stops_the_fold_there(app: Any) -> None:
    sessions = app.state.holo.sessionmaker
    statuses = (
        [MessageStatus.COMPLETE] * 6 + [MessageStatus.STREAMING] + [MessageStatus.COMPLETE] * 13
    )
    conversation_id = await _conversation(sessions, statuses)

    await Summaries(sessions, SMALL).after_turn(conversation_id, 0)

    async with sessions() as session:
        conversation = await session.get_one(Conversation, conversation_id)
        streaming = await session.scalar(
            select(Message.id).where(Message.status == MessageStatus.STREAMING)
        )
    assert conversation.summary.startswith("Ada: I planted 0 tomato")
    assert streaming is not None and conversation.summary_through_id is not None
    assert conversation.summary_through_id < streaming  # it and what follows wait
    assert "I planted 8 " not in conversation.summary


def _companion(persona: str) -> Companion:
    text = {"backstory": "", "personality": "", "scenario": "", "system_prompt": "",
            "post_history_instructions": "", "example_dialogue": ""}  # fmt: skip
    return Companion(name="Nova", persona=persona, traits=[], language="en", **text)


def test_a_long_card_leaves_less_room_for_history_so_folds_come_sooner() -> None:
    budget = ContextConfig().budget
    plain = history_room(_companion(""), budget)
    long = history_room(_companion("w " * 2000), budget)
    assert 0 < long < plain < budget.tokens
    assert plain - long > budget.tokens * 0.3  # the description took its 35% share
