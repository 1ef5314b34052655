"""Companions: a person's AI characters (persona, voice, 3D character)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.cards.limits import MAX_ITEMS as CARD_ITEMS
from pipeline.cards.limits import MAX_TEXT as CARD_TEXT
from services import quotas, validation
from services.errors import NotFound
from services.identity import Viewer
from store.models import CharacterAsset, Companion, Conversation, LorebookEntry, VoiceProfile

# Text a Character Card fills, as long as a card may make it (persona is the card's description).
CARD_COLUMNS = (
    "personality",
    "scenario",
    "example_dialogue",
    "system_prompt",
    "post_history_instructions",
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(slots=True)
class CompanionFields:
    """Fields of a create or update; ``None`` on update means "leave as is"."""

    name: str | None = None
    persona: str | None = None
    backstory: str | None = None
    traits: list[str] | None = None
    language: str | None = None
    greeting: str | None = None
    personality: str | None = None
    scenario: str | None = None
    example_dialogue: str | None = None
    system_prompt: str | None = None
    post_history_instructions: str | None = None
    alternate_greetings: list[str] | None = None
    memory_enabled: bool | None = None
    voice_profile_id: int | None = None
    character_asset_id: int | None = None
    clear_voice_profile: bool = False
    clear_character_asset: bool = False


async def get_owned(session: AsyncSession, viewer: Viewer, companion_id: int) -> Companion:
    companion = await session.get(Companion, companion_id)
    if companion is None or companion.owner_id != viewer.user_id:
        raise NotFound("Companion")
    return companion


async def create(session: AsyncSession, viewer: Viewer, fields: CompanionFields) -> Companion:
    await quotas.check_can_create_companion(session, viewer.user_id)
    if fields.name is None:
        fields.name = ""
    companion = Companion(owner_id=viewer.user_id, name="", traits=[])
    await _apply(session, viewer, companion, fields)
    session.add(companion)
    await session.commit()
    return companion


async def update(
    session: AsyncSession, viewer: Viewer, companion_id: int, fields: CompanionFields
) -> Companion:
    companion = await get_owned(session, viewer, companion_id)
    await _apply(session, viewer, companion, fields)
    await session.commit()
    return companion


async def remove(session: AsyncSession, viewer: Viewer, companion_id: int) -> int:
    companion = await get_owned(session, viewer, companion_id)
    # Conversations cascade in the database; delete explicitly too for engines without FKs.
    await session.execute(delete(Conversation).where(Conversation.companion_id == companion.id))
    await session.execute(delete(LorebookEntry).where(LorebookEntry.companion_id == companion.id))
    await session.delete(companion)
    await session.commit()
    return companion_id


async def _apply(
    session: AsyncSession, viewer: Viewer, companion: Companion, f: CompanionFields
) -> None:
    if f.name is not None:
        companion.name = validation.text(f.name, "name", min_len=1, max_len=80)
    if f.persona is not None:
        companion.persona = validation.text(f.persona, "persona", max_len=CARD_TEXT)
    if f.backstory is not None:
        companion.backstory = validation.text(f.backstory, "backstory", max_len=8000)
    if f.traits is not None:
        companion.traits = validation.string_list(f.traits, "traits", max_items=20, max_len=40)
    if f.language is not None:
        companion.language = validation.language(f.language)
    if f.greeting is not None:
        companion.greeting = validation.text(f.greeting, "greeting", max_len=CARD_TEXT)
    for column in CARD_COLUMNS:
        value = getattr(f, column)
        if value is not None:
            field = _camel(column)
            setattr(companion, column, validation.text(value, field, max_len=CARD_TEXT))
    if f.alternate_greetings is not None:
        companion.alternate_greetings = validation.string_list(
            f.alternate_greetings, "alternateGreetings", max_items=CARD_ITEMS, max_len=CARD_TEXT
        )
    if f.memory_enabled is not None:
        companion.memory_enabled = f.memory_enabled
    if f.clear_voice_profile:
        companion.voice_profile_id = None
    elif f.voice_profile_id is not None:
        profile = await session.get(VoiceProfile, f.voice_profile_id)
        if profile is None or profile.owner_id != viewer.user_id:
            raise NotFound("Voice profile")
        companion.voice_profile_id = profile.id
    if f.clear_character_asset:
        companion.character_asset_id = None
    elif f.character_asset_id is not None:
        asset = await session.get(CharacterAsset, f.character_asset_id)
        if asset is None or asset.owner_id != viewer.user_id:
            raise NotFound("Character asset")
        companion.character_asset_id = asset.id
