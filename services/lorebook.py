"""A companion's lorebook rows and the card-side entries they stand for (pipeline/cards): one
mapping, used by card import/export and by the turn's context."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.cards import LoreEntry, limits
from store.models import LorebookEntry


async def entries_of(
    session: AsyncSession, companion_id: int, *, enabled_only: bool = False
) -> list[LorebookEntry]:
    """The companion's entries as the card listed them (the prompt orders them itself)."""
    query = select(LorebookEntry).where(LorebookEntry.companion_id == companion_id)
    if enabled_only:
        query = query.where(LorebookEntry.enabled.is_(True))
    query = query.order_by(LorebookEntry.id)
    return list((await session.scalars(query.limit(limits.MAX_ENTRIES))).all())


def row_of(companion_id: int, entry: LoreEntry) -> LorebookEntry:
    return LorebookEntry(
        companion_id=companion_id,
        name=entry.name,
        keys=list(entry.keys),
        secondary_keys=list(entry.secondary_keys),
        content=entry.content,
        enabled=entry.enabled,
        constant=entry.constant,
        selective=entry.selective,
        case_sensitive=entry.case_sensitive,
        insertion_order=entry.insertion_order,
        priority=entry.priority,
        position=entry.position,
        extra=dict(entry.extra),
    )


def entry_of(row: LorebookEntry) -> LoreEntry:
    return LoreEntry(
        keys=list(row.keys or []),
        content=row.content,
        secondary_keys=list(row.secondary_keys or []),
        enabled=row.enabled,
        constant=row.constant,
        selective=row.selective,
        case_sensitive=row.case_sensitive,
        insertion_order=row.insertion_order,
        priority=row.priority,
        position=row.position,
        name=row.name,
        extra=dict(row.extra or {}),
    )
