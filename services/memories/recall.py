"""Recall: the memories worth putting in this turn's prompt, within a token budget.

Candidates are the full-text matches for the message (bm25 / ts_rank), the person's most
important and most recent memories, and, with an embedding provider, the closest by cosine.
Each is scored ``relevance * 0.6 + importance * 0.25 + recency * 0.15`` (when nothing matches:
``importance * 0.6 + recency * 0.4``), then packed best-first until the budget is spent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from pipeline.embeddings.base import Embedder
from pipeline.prompt import estimate_tokens
from services.memories.search import candidates, search_terms
from services.memories.semantic import similarities
from store.models import Memory

MATCH_CANDIDATES = 40
BACKGROUND_CANDIDATES = 16
RECENCY_HALF_LIFE_DAYS = 30.0
# Each recalled memory becomes one "- text" line of the prompt.
LINE_OVERHEAD_TOKENS = 2


@dataclass(frozen=True, slots=True)
class Weights:
    relevance: float = 0.6
    importance: float = 0.25
    recency: float = 0.15


WEIGHTS = Weights()
NO_QUERY_WEIGHTS = Weights(relevance=0.0, importance=0.6, recency=0.4)


async def recall(
    session: AsyncSession,
    *,
    companion_id: int,
    person_ids: Sequence[int],
    query: str,
    budget_tokens: int,
    now: datetime | None = None,
    embedder: Embedder | None = None,
    mark: bool = True,
) -> list[Memory]:
    """Memories of ``person_ids`` for this companion, best first, within ``budget_tokens``.

    Only the given people's memories are read (a shared conversation passes its participants).
    Returns [] when the companion's memory is off. Marks what it returns ``last_recalled_at``
    and commits that (a short write, so SQLite's lock is not held through the reply), unless
    ``mark`` is off (a reply's draft, which may never be sent).
    """
    owners = sorted(set(person_ids))
    if not owners or budget_tokens <= 0:
        return []
    now = now or datetime.now(UTC)
    relevance, ids = await candidates(
        session,
        companion_id=companion_id,
        owner_ids=owners,
        terms=search_terms(query),
        match_limit=MATCH_CANDIDATES,
        background_limit=BACKGROUND_CANDIDATES,
    )
    if not ids:  # nothing remembered, or memory is off
        return []
    if embedder is not None and query.strip():
        semantic = await similarities(
            session, embedder, companion_id, owners, query, also=relevance, limit=MATCH_CANDIDATES
        )
        for memory_id in set(relevance) | set(semantic):
            blended = 0.5 * relevance.get(memory_id, 0.0) + 0.5 * semantic.get(memory_id, 0.0)
            relevance[memory_id] = blended
        ids.update(semantic)
    mine = (Memory.companion_id == companion_id, Memory.owner_id.in_(owners))
    rows = list((await session.scalars(select(Memory).where(Memory.id.in_(ids), *mine))).all())
    weights = WEIGHTS if relevance else NO_QUERY_WEIGHTS
    scored = sorted(
        rows,
        key=lambda m: (_score(m, relevance.get(m.id, 0.0), now, weights), m.id),
        reverse=True,
    )
    chosen: list[Memory] = []
    spent = 0
    for memory in scored:
        cost = estimate_tokens(memory.text) + LINE_OVERHEAD_TOKENS
        if spent + cost > budget_tokens:
            continue
        chosen.append(memory)
        spent += cost
    if chosen and mark:
        await _mark_recalled(session, [m.id for m in chosen], now)
        for memory in chosen:  # as stored, without making the rows dirty (no second UPDATE)
            set_committed_value(memory, "last_recalled_at", now)
    return chosen


def _score(memory: Memory, relevance: float, now: datetime, w: Weights) -> float:
    age_days = max((now - memory.updated_at).total_seconds(), 0.0) / 86400
    recency: float = 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)
    return w.relevance * relevance + w.importance * memory.importance + w.recency * recency


async def _mark_recalled(session: AsyncSession, ids: list[int], now: datetime) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # A lost last_recalled_at after a crash is harmless: do not wait for the WAL flush
        # (bench/memory_recall.py: the commit was the slowest step of recall).
        await session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    # Recall is not an edit: updated_at (what recency, the apps and the vector cache read) is
    # set to itself, else its onupdate default would bump it. A Core statement on the table:
    # no ORM bulk-update bookkeeping.
    table = cast(Table, Memory.__table__)
    await session.execute(
        update(table)
        .where(table.c.id.in_(ids))
        .values(last_recalled_at=now, updated_at=table.c.updated_at)
    )
    await session.commit()
