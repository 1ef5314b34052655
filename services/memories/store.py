"""A person's memories as they see and control them: list, search, remember, edit, forget.

A memory belongs to the person it is about (``owner_id``), never to the companion's owner: in a
shared conversation each participant sees and forgets only their own. A person may read their
memories of a companion they own or talk to in a conversation; any other companion, and any
memory not theirs, is NOT_FOUND exactly like a missing one.

Plan limit (``PlanLimits.memories``): remembering by hand past it answers QUOTA_EXCEEDED; a
memory formed from a conversation instead makes room by forgetting the person's least important,
oldest memory of that companion (``make_room``), so talking never fails because of memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, ColumnElement, column, delete, exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services import quotas, validation
from services.errors import NotFound, QuotaExceeded
from services.identity import Viewer
from services.memories.search import fts5_expression, search_terms, tsquery_expression
from services.memories.semantic import forget_cached
from services.paging import Page, PageArgs, paginate_many
from store.base import utcnow
from store.models import (
    Companion,
    Conversation,
    ConversationParticipant,
    Memory,
    MemoryOrigin,
)

MAX_TEXT = 500
DEFAULT_IMPORTANCE = 0.6  # what a person asks to be remembered matters a bit more than chat


@dataclass(frozen=True, slots=True)
class MemoryEdit:
    text: str | None = None
    importance: float | None = None


async def companion_for(session: AsyncSession, viewer: Viewer, companion_id: int) -> Companion:
    """A companion the viewer owns or talks to in a conversation; anything else is NOT_FOUND."""
    companion = await session.get(Companion, companion_id)
    if companion is None:
        raise NotFound("Companion")
    if companion.owner_id == viewer.user_id:
        return companion
    talks_to = await session.scalar(
        select(
            exists().where(
                Conversation.companion_id == companion_id,
                ConversationParticipant.conversation_id == Conversation.id,
                ConversationParticipant.user_id == viewer.user_id,
            )
        )
    )
    if not talks_to:
        raise NotFound("Companion")
    return companion


async def get_own(session: AsyncSession, viewer: Viewer, memory_id: int) -> Memory:
    memory = await session.get(Memory, memory_id)
    if memory is None or memory.owner_id != viewer.user_id:
        raise NotFound("Memory")
    return memory


async def page(
    session: AsyncSession, viewer: Viewer, companion_id: int, query: str | None, args: PageArgs
) -> Page[Memory]:
    """The viewer's memories of a companion, newest first; ``query`` keeps those with all of
    its words (full-text, so "peanut" finds "peanuts")."""
    await companion_for(session, viewer, companion_id)
    where: list[ColumnElement[bool]] = [Memory.companion_id == companion_id]
    terms = search_terms(query or "")
    if terms:
        where.append(_matches_all(session, terms))
    pages = await paginate_many(
        session, Memory, Memory.owner_id, [viewer.user_id], args, newest_first=True, where=where
    )
    return pages[viewer.user_id]


def _matches_all(session: AsyncSession, terms: Sequence[str]) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        return text("memories.search_vector @@ to_tsquery('english', :memory_match)").bindparams(
            memory_match=tsquery_expression(terms, every=True)
        )  # type: ignore[return-value]
    return Memory.id.in_(
        text("SELECT rowid FROM memories_fts WHERE memories_fts MATCH :memory_match")
        .bindparams(memory_match=fts5_expression(terms, every=True))
        .columns(column("rowid", BigInteger))
    )


async def remember(
    session: AsyncSession,
    viewer: Viewer,
    companion_id: int,
    memory_text: str,
    importance: float | None,
) -> Memory:
    """What the person asks the companion to remember; QUOTA_EXCEEDED past the plan's limit.
    The same text again (ignoring case) refreshes the memory already there."""
    await companion_for(session, viewer, companion_id)
    clean = validation.text(memory_text, "text", min_len=1, max_len=MAX_TEXT)
    weight = _importance(importance if importance is not None else DEFAULT_IMPORTANCE)
    await quotas.one_at_a_time(session, viewer.user_id)
    same = await session.scalar(
        select(Memory).where(
            Memory.owner_id == viewer.user_id,
            Memory.companion_id == companion_id,
            func.lower(Memory.text) == clean.lower(),
        )
    )
    if same is not None:  # told again: the one memory, refreshed, not a second copy
        same.importance = weight if importance is not None else same.importance
        same.updated_at = utcnow()
        await session.commit()
        return same
    allowed = (await quotas.limits_now(session, viewer.user_id, utcnow())).memories
    if await count(session, viewer.user_id) >= allowed:
        raise QuotaExceeded("memories", allowed, None)
    memory = Memory(
        owner_id=viewer.user_id,
        companion_id=companion_id,
        text=clean,
        kind="fact",
        importance=weight,
        origin=MemoryOrigin.PERSON,
    )
    session.add(memory)
    await session.commit()
    return memory


async def update(session: AsyncSession, viewer: Viewer, memory_id: int, edit: MemoryEdit) -> Memory:
    memory = await get_own(session, viewer, memory_id)
    if edit.text is not None:
        memory.text = validation.text(edit.text, "text", min_len=1, max_len=MAX_TEXT)
        # The person's words now: a stale vector must not steer recall.
        memory.origin = MemoryOrigin.PERSON
        memory.embedding = None
        memory.embedding_model = None
    if edit.importance is not None:
        memory.importance = _importance(edit.importance)
    await session.commit()
    forget_cached(memory.companion_id)
    return memory


async def forget(session: AsyncSession, viewer: Viewer, memory_id: int) -> int:
    memory = await get_own(session, viewer, memory_id)
    await session.delete(memory)
    await session.commit()
    return memory_id


async def forget_all(session: AsyncSession, viewer: Viewer, companion_id: int) -> int:
    """Everything the viewer told this companion is forgotten; returns how many memories."""
    await companion_for(session, viewer, companion_id)
    result = await session.execute(
        delete(Memory).where(Memory.owner_id == viewer.user_id, Memory.companion_id == companion_id)
    )
    await session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


async def count(session: AsyncSession, owner_id: int) -> int:
    """A person's memories across companions: what the plan limit counts."""
    total = await session.scalar(
        select(func.count()).select_from(Memory).where(Memory.owner_id == owner_id)
    )
    return total or 0


async def make_room(session: AsyncSession, owner_id: int, allowed: int) -> int:
    """Forget the person's least important, oldest memories until one more fits; returns how
    many were forgotten."""
    over = await count(session, owner_id) - allowed + 1
    if over <= 0:
        return 0
    victims = (
        await session.scalars(
            select(Memory.id)
            .where(Memory.owner_id == owner_id)
            .order_by(Memory.importance.asc(), Memory.updated_at.asc(), Memory.id.asc())
            .limit(over)
        )
    ).all()
    await session.execute(delete(Memory).where(Memory.id.in_(victims)))
    return len(victims)


def _importance(value: float) -> float:
    return validation.number(value, "importance", low=0.0, high=1.0)
