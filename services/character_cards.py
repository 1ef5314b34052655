"""Character cards: a card file becomes a companion of the caller, and a companion becomes a
card again (V3 JSON, or a PNG carrying V3 and V2) at a signed URL.

Mapping: name; description -> persona; personality, scenario, system_prompt,
post_history_instructions -> their columns; first_mes -> greeting; alternate_greetings;
mes_example -> example_dialogue; character_book entries -> lorebook rows; the PNG's image (or
a CharX's main icon) -> the picture. Everything else of the card (tags, creator, creator_notes,
extensions, V3's assets and nickname, fields of later versions, the book's own fields) is kept
in ``card_data`` and written back on export.

Nothing is stored for a bad card: the file is read and checked in full before the transaction
starts, the picture is written before the commit and removed if the commit fails.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.cards import Card, CardError, card_png, card_v3, read_card
from pipeline.storage.base import BlobStorage, public_url
from services import companions, lorebook, quotas
from services.errors import BadUserInput
from services.identity import Viewer
from store.base import utcnow
from store.models import Companion, LorebookEntry

Format = Literal["json", "png"]
BOOK = "character_book"  # card_data's key for the book's own fields (name, scan_depth...)


@dataclass(frozen=True, slots=True)
class CardExport:
    url: str
    filename: str
    format: Format
    expires_at: datetime


def companion_prefix(owner_id: int, companion_id: int) -> str:
    """Everything stored for one companion (its picture, its exported cards): erased with it,
    and with its owner's ``users/{id}`` folder."""
    return f"users/{owner_id}/companions/{companion_id}"


async def import_card(
    session: AsyncSession, storage: BlobStorage, viewer: Viewer, raw: bytes
) -> Companion:
    try:
        # 20-70 ms for a card at the limits (bench.cards): off the event loop.
        parsed = await asyncio.to_thread(read_card, raw)
    except CardError as e:
        raise BadUserInput(e.message, field=e.field) from e
    card = parsed.card
    await quotas.check_can_create_companion(session, viewer.user_id)
    companion = Companion(
        owner_id=viewer.user_id,
        name=card.name,
        persona=card.description,
        traits=[],
        greeting=card.first_mes,
        personality=card.personality,
        scenario=card.scenario,
        example_dialogue=card.mes_example,
        alternate_greetings=list(card.alternate_greetings),
        system_prompt=card.system_prompt,
        post_history_instructions=card.post_history_instructions,
        card_data=_card_data(card),
    )
    session.add(companion)
    await session.flush()
    session.add_all(lorebook.row_of(companion.id, e) for e in card.entries)
    picture = parsed.picture
    if picture is None:
        await session.commit()
        return companion
    key = f"{companion_prefix(viewer.user_id, companion.id)}/picture.{picture.ext}"
    await storage.put(key, picture.data, picture.mime_type)
    companion.picture_key = key
    try:
        await session.commit()
    except BaseException:
        await storage.delete_prefix(companion_prefix(viewer.user_id, companion.id))
        raise
    return companion


async def export_card(
    session: AsyncSession,
    storage: BlobStorage,
    viewer: Viewer,
    companion_id: int,
    format: Format,
    *,
    ttl_s: int,
    base_url: str = "",
) -> CardExport:
    companion = await companions.get_owned(session, viewer, companion_id)
    card = card_of(companion, await lorebook.entries_of(session, companion.id))
    if format == "png":
        data = await asyncio.to_thread(card_png, card, await _png_picture(storage, companion))
        mime = "image/png"
    else:
        # Compact, as the PNG's chunk: a card at the limits stays importable.
        data = json.dumps(card_v3(card), ensure_ascii=False).encode()
        mime = "application/json"
    filename = f"{_slug(card.name)}.{format}"
    key = f"{companion_prefix(viewer.user_id, companion.id)}/card/{filename}"
    await storage.put(key, data, mime)
    return CardExport(
        url=public_url(base_url, storage.signed_url(key, ttl_s)),
        filename=filename,
        format=format,
        expires_at=utcnow() + timedelta(seconds=ttl_s),
    )


async def count_entries(session: AsyncSession, companion_ids: list[int]) -> dict[int, int]:
    rows = await session.execute(
        select(LorebookEntry.companion_id, func.count())
        .where(LorebookEntry.companion_id.in_(companion_ids))
        .group_by(LorebookEntry.companion_id)
    )
    return {companion_id: count for companion_id, count in rows}


async def forget_files(storage: BlobStorage, owner_id: int, companion_id: int) -> int:
    """A deleted companion's folder of blobs (picture, exported cards), after its rows went."""
    return await storage.delete_prefix(companion_prefix(owner_id, companion_id))


def card_of(companion: Companion, entries: list[LorebookEntry]) -> Card:
    data = dict(companion.card_data or {})
    book = data.pop(BOOK, None)
    return Card(
        name=companion.name,
        description=companion.persona,
        personality=companion.personality,
        scenario=companion.scenario,
        first_mes=companion.greeting,
        mes_example=companion.example_dialogue,
        system_prompt=companion.system_prompt,
        post_history_instructions=companion.post_history_instructions,
        alternate_greetings=list(companion.alternate_greetings or []),
        entries=[lorebook.entry_of(row) for row in entries],
        book=book if isinstance(book, dict) else None,
        rest=data,
    )


def _card_data(card: Card) -> dict[str, Any]:
    data = dict(card.rest)
    if card.book is not None:
        data[BOOK] = card.book
    return data


async def _png_picture(storage: BlobStorage, companion: Companion) -> bytes | None:
    """The companion's picture when it is a PNG (JPEG or WebP cannot carry text chunks without
    re-encoding, which would need an image library): else the placeholder is drawn."""
    key = companion.picture_key
    if key is None or not key.endswith(".png"):
        return None
    try:
        return await storage.get(key)
    except KeyError:
        return None


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:60] or "character"
