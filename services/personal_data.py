"""Everything stored about one person, as JSON-ready dicts: the ``data.json`` of an export.

Rows are dumped column by column, so a column added later shows up in exports without anyone
remembering to list it; only secrets are left out, by name.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.owned import list_owned
from store.models import (
    AnimationSequence,
    BillingSubscription,
    CharacterAsset,
    Companion,
    Conversation,
    ConversationParticipant,
    HologramDevice,
    LorebookEntry,
    Memory,
    Message,
    User,
    UserPreference,
    VoiceProfile,
)

FORMAT = "holomate-export/1"
# Secrets and token bookkeeping: useless to the person, dangerous in a file they may share.
_USER_SECRETS = frozenset({"password_hash", "token_version"})
_DEVICE_SECRETS = frozenset({"token_version"})
_MEMORY_INTERNALS = frozenset({"embedding"})


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def row_dict(row: Any, omit: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {
        column.key: _plain(getattr(row, column.key))
        for column in row.__table__.columns
        if column.key not in omit
    }


async def collect(session: AsyncSession, user_id: int, now: datetime) -> dict[str, Any]:
    user = await session.get_one(User, user_id)
    preferences = await session.get(UserPreference, user_id)
    billing = await session.scalar(
        select(BillingSubscription).where(BillingSubscription.user_id == user_id)
    )
    return {
        "format": FORMAT,
        "exported_at": now.isoformat(),
        "user": row_dict(user, _USER_SECRETS),
        "preferences": row_dict(preferences) if preferences else None,
        "billing_subscription": row_dict(billing) if billing else None,
        "companions": await _owned(session, Companion, user_id),
        "lorebook_entries": await _lorebook_entries(session, user_id),
        # What companions remember about the person (the vector is a model's, not theirs).
        "memories": await _owned(session, Memory, user_id, _MEMORY_INTERNALS),
        "voice_profiles": await _owned(session, VoiceProfile, user_id),
        "character_assets": await _character_assets(session, user_id),
        "conversations": await _conversations(session, user_id),
        "devices": await _owned(session, HologramDevice, user_id, _DEVICE_SECRETS),
    }


async def _owned(
    session: AsyncSession, model: Any, user_id: int, omit: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    return [row_dict(r, omit) for r in await list_owned(session, model, user_id)]


async def _lorebook_entries(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """The lorebooks of the person's companions (from character cards they imported)."""
    rows = await session.scalars(
        select(LorebookEntry)
        .where(
            LorebookEntry.companion_id.in_(
                select(Companion.id).where(Companion.owner_id == user_id)
            )
        )
        .order_by(LorebookEntry.id)
    )
    return [row_dict(r) for r in rows.all()]


async def _character_assets(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    assets = (
        await session.scalars(
            select(CharacterAsset)
            .where(CharacterAsset.owner_id == user_id)
            .order_by(CharacterAsset.id)
        )
    ).all()
    sequences = (
        await session.scalars(
            select(AnimationSequence)
            .where(AnimationSequence.character_asset_id.in_([a.id for a in assets]))
            .order_by(AnimationSequence.id)
        )
    ).all()
    by_asset: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for seq in sequences:
        by_asset[seq.character_asset_id].append(row_dict(seq))
    return [{**row_dict(a), "animation_sequences": by_asset[a.id]} for a in assets]


async def _conversations(session: AsyncSession, user_id: int) -> list[dict[str, Any]]:
    """Conversations the person takes part in, with every message they can read there."""
    taking_part = select(ConversationParticipant.conversation_id).where(
        ConversationParticipant.user_id == user_id
    )
    conversations = (
        await session.scalars(
            select(Conversation).where(Conversation.id.in_(taking_part)).order_by(Conversation.id)
        )
    ).all()
    ids = [c.id for c in conversations]
    participants = (
        await session.execute(
            select(ConversationParticipant, User.display_name)
            .join(User, User.id == ConversationParticipant.user_id)
            .where(ConversationParticipant.conversation_id.in_(ids))
        )
    ).all()
    messages = (
        await session.scalars(
            select(Message).where(Message.conversation_id.in_(ids)).order_by(Message.id)
        )
    ).all()
    people: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p, name in participants:
        people[p.conversation_id].append(
            {"user_id": p.user_id, "display_name": name, "role": p.role.value}
        )
    said: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for m in messages:
        said[m.conversation_id].append(row_dict(m))
    return [
        {**row_dict(c), "participants": people[c.id], "messages": said[c.id]} for c in conversations
    ]
