"""Forming memories after each turn, in the background (a ``ReplyService.after_turn`` step).

What the people said since the companion's previous reply is read, each message by its author:
a memory is owned by the person who said it, also in a shared conversation. Facts come from the
language model as structured output when one is configured for it (``HOLOMATE_MEMORY_LLM``),
else, and after any error of it, from the offline extractor. A fact on a topic already
remembered updates that memory (a duplicate refreshes it, a contradiction replaces it) instead of
piling up. Each memory formed or changed is published on the conversation's stream as
``MemoryFormed``. Nothing happens while the companion's memory is off.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline.broadcast.errors import LogUnavailable
from pipeline.broadcast.hub import EventHub
from pipeline.embeddings.base import Embedder, EmbeddingError, to_bytes
from pipeline.events import MemoryFormed
from pipeline.memory_extractor import ExtractedFact, extract
from services import quotas, users
from services.channels import conversation_channel
from services.events import logged, memory_of
from services.memories.semantic import forget_cached
from services.memories.store import make_room
from store.base import utcnow
from store.models import (
    Companion,
    Conversation,
    Memory,
    MemoryOrigin,
    Message,
    MessageRole,
)

log = logging.getLogger(__name__)

# A model that extracts facts: (message, speaker) -> facts. Raises on any failure.
FactModel = Callable[[str, str], Awaitable[list[ExtractedFact]]]
MAX_FACTS_PER_MESSAGE = 8


@dataclass(slots=True)
class MemoryForming:
    sessionmaker: async_sessionmaker[AsyncSession]
    hub: EventHub | None
    model: FactModel | None = None
    embedder: Embedder | None = None

    async def aclose(self) -> None:
        """Close the model's and the embedder's HTTP clients (at server shutdown)."""
        for client in (self.model, self.embedder):
            close = getattr(client, "aclose", None)
            if close is not None:
                await close()

    async def after_turn(self, conversation_id: int, reply_id: int) -> None:
        async with self.sessionmaker() as session:
            formed = await self.form(session, conversation_id, reply_id)
        for memory in formed:
            await self._publish(memory)

    async def form(
        self, session: AsyncSession, conversation_id: int, reply_id: int
    ) -> list[Memory]:
        """The memories formed or changed from the people's messages this reply answered."""
        companion = await session.scalar(
            select(Companion)
            .join(Conversation, Conversation.companion_id == Companion.id)
            .where(Conversation.id == conversation_id)
        )
        if companion is None or not companion.memory_enabled:
            return []
        changed: list[Memory] = []
        for message in await _messages_of_turn(session, conversation_id, reply_id):
            assert message.author_id is not None
            speaker = await users.called(session, message.author_id) or "The person"
            facts, origin = await self._facts(message.text, speaker)
            for fact in facts[:MAX_FACTS_PER_MESSAGE]:
                memory = await _upsert(session, companion.id, message, fact, origin)
                if memory is not None and memory not in changed:
                    changed.append(memory)
        await session.commit()
        await self._embed(session, changed)
        if changed:
            forget_cached(companion.id)
        return changed

    async def _facts(self, text: str, speaker: str) -> tuple[list[ExtractedFact], MemoryOrigin]:
        if self.model is not None:
            try:
                return await self.model(text, speaker), MemoryOrigin.MODEL
            except Exception:  # any failure of the model: the offline extractor still remembers
                log.warning("memory model failed; using the offline extractor", exc_info=True)
        return extract(text, speaker), MemoryOrigin.EXTRACTED

    async def _embed(self, session: AsyncSession, memories: Sequence[Memory]) -> None:
        if self.embedder is None or not memories:
            return
        try:
            vectors = await self.embedder.embed([m.text for m in memories])
        except EmbeddingError as e:
            log.warning("memories kept without embeddings: %s", e)
            return
        for memory, vector in zip(memories, vectors, strict=True):
            memory.embedding = to_bytes(vector)
            memory.embedding_model = self.embedder.model
        await session.commit()

    async def _publish(self, memory: Memory) -> None:
        if self.hub is None or memory.conversation_id is None or memory.message_id is None:
            return
        event = MemoryFormed(memory_of(memory))
        payload = logged(memory.conversation_id, memory.message_id, event)
        try:
            await self.hub.publish(conversation_channel(memory.conversation_id), payload)
        except LogUnavailable:
            log.warning("MemoryFormed for memory %s not published: log unavailable", memory.id)


async def _messages_of_turn(
    session: AsyncSession, conversation_id: int, reply_id: int
) -> list[Message]:
    """People's messages after the companion's previous reply, up to this one."""
    previous = (
        select(func.max(Message.id))
        .where(
            Message.conversation_id == conversation_id,
            Message.role == MessageRole.COMPANION,
            Message.id < reply_id,
        )
        .scalar_subquery()
    )
    rows = await session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.role == MessageRole.USER,
            Message.author_id.is_not(None),
            Message.id < reply_id,
            Message.id > func.coalesce(previous, 0),
        )
        .order_by(Message.id)
    )
    return list(rows.all())


async def _upsert(
    session: AsyncSession,
    companion_id: int,
    message: Message,
    fact: ExtractedFact,
    origin: MemoryOrigin,
) -> Memory | None:
    """Update the memory on the fact's topic, or add one (making room under the plan limit).
    Returns the memory if it is new or its text changed; a pure duplicate only refreshes it."""
    owner_id = message.author_id
    assert owner_id is not None
    existing = await session.scalar(
        select(Memory)
        .where(
            Memory.owner_id == owner_id,
            Memory.companion_id == companion_id,
            Memory.topic == fact.topic,
        )
        .order_by(Memory.id.desc())
        .limit(1)
    )
    if existing is not None:
        if existing.text == fact.text and existing.kind == fact.kind:
            existing.updated_at = utcnow()  # said again: recent again
            return None
        if existing.origin == MemoryOrigin.PERSON and existing.text == fact.text:
            return None
        existing.text = fact.text
        existing.kind = fact.kind
        existing.importance = max(existing.importance, fact.importance)
        existing.origin = origin
        existing.conversation_id = message.conversation_id
        existing.message_id = message.id
        existing.embedding = None
        existing.embedding_model = None
        await session.flush()
        return existing
    limits = await quotas.limits_now(session, owner_id, utcnow())
    await make_room(session, owner_id, limits.memories)
    memory = Memory(
        owner_id=owner_id,
        companion_id=companion_id,
        text=fact.text,
        kind=fact.kind,
        topic=fact.topic,
        importance=fact.importance,
        origin=origin,
        conversation_id=message.conversation_id,
        message_id=message.id,
    )
    session.add(memory)
    await session.flush()
    return memory
