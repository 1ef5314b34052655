"""A person's profile and preferences."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import validation
from services.errors import BadUserInput
from store.models import User, UserPreference

REPLY_LENGTHS = ("short", "medium", "long")


@dataclass(slots=True)
class PreferenceFields:
    preferred_name: str | None = None
    language: str | None = None
    reply_length: str | None = None
    voice_enabled: bool | None = None
    topics_to_avoid: list[str] | None = None


async def called(session: AsyncSession, user_id: int) -> str | None:
    """What to call the person: the name they asked to be called, else their display name."""
    row = (
        await session.execute(
            select(UserPreference.preferred_name, User.display_name)
            .outerjoin(UserPreference, UserPreference.user_id == User.id)
            .where(User.id == user_id)
        )
    ).first()
    if row is None:
        return None
    return row.preferred_name or row.display_name or None


async def update_me(session: AsyncSession, user_id: int, display_name: str | None) -> User:
    user = await session.get_one(User, user_id)
    if display_name is not None:
        user.display_name = validation.text(display_name, "displayName", min_len=1, max_len=80)
    await session.commit()
    return user


async def preferences(session: AsyncSession, user_id: int) -> UserPreference:
    pref = await session.get(UserPreference, user_id)
    if pref is None:  # users created before preferences existed
        pref = UserPreference(user_id=user_id, topics_to_avoid=[])
        session.add(pref)
        await session.flush()
    return pref


async def set_preferences(
    session: AsyncSession, user_id: int, fields: PreferenceFields
) -> UserPreference:
    pref = await preferences(session, user_id)
    if fields.preferred_name is not None:
        pref.preferred_name = (
            validation.text(fields.preferred_name, "preferredName", max_len=80) or None
        )
    if fields.language is not None:
        pref.language = validation.language(fields.language)
    if fields.reply_length is not None:
        if fields.reply_length not in REPLY_LENGTHS:
            raise BadUserInput("Use short, medium or long", field="replyLength")
        pref.reply_length = fields.reply_length
    if fields.voice_enabled is not None:
        pref.voice_enabled = fields.voice_enabled
    if fields.topics_to_avoid is not None:
        pref.topics_to_avoid = validation.string_list(
            fields.topics_to_avoid, "topicsToAvoid", max_items=20, max_len=60
        )
    await session.commit()
    return pref
