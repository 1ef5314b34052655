"""The AI companion: persona, voice and 3D character."""

from __future__ import annotations

from datetime import datetime

import strawberry

from context.request import Context
from pipeline.storage.base import public_url
from schema import ids
from schema.types.connection import Connection
from schema.types.conversation import Conversation
from schema.types.voice import CharacterAsset, VoiceProfile
from services.paging import PageArgs
from store.models import Companion as CompanionRow


@strawberry.type
class Companion:
    row: strawberry.Private[CompanionRow]
    id: strawberry.ID
    name: str
    persona: str
    backstory: str
    traits: list[str]
    language: str
    greeting: str
    personality: str
    scenario: str
    example_dialogue: str
    system_prompt: str
    post_history_instructions: str
    alternate_greetings: list[str]
    memory_enabled: bool = strawberry.field(
        description="Whether it forms and recalls long-term memories (see Query.memories)."
    )
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    async def voice_profile(self, info: strawberry.Info[Context, None]) -> VoiceProfile | None:
        if self.row.voice_profile_id is None:
            return None
        row = await info.context.loaders.voice_profile_by_id.load(self.row.voice_profile_id)
        return VoiceProfile.from_model(row) if row else None

    @strawberry.field
    async def character_asset(self, info: strawberry.Info[Context, None]) -> CharacterAsset | None:
        if self.row.character_asset_id is None:
            return None
        row = await info.context.loaders.character_asset_by_id.load(self.row.character_asset_id)
        return CharacterAsset.from_model(row) if row else None

    @strawberry.field(description="The character's picture (signed, expiring URL), if any.")
    def picture_url(self, info: strawberry.Info[Context, None]) -> str | None:
        storage = info.context.app.storage
        if self.row.picture_key is None or storage is None:
            return None
        ttl = info.context.app.media_url_ttl_s
        signed = storage.signed_url(self.row.picture_key, ttl)
        return public_url(info.context.media_base_url, signed)

    @strawberry.field(description="How many lorebook entries (from a character card) it has.")
    async def lorebook_entry_count(self, info: strawberry.Info[Context, None]) -> int:
        count: int = await info.context.loaders.lorebook_count_by_companion_id.load(self.row.id)
        return count

    @strawberry.field(
        description="Conversations with this companion the caller takes part in, newest first."
    )
    async def conversations(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Conversation]:
        viewer = info.context.any_viewer()
        args = PageArgs(first=first, after=after).validated()
        page = await info.context.loaders.conversation_page_by_companion.load(
            (self.row.id, viewer.user_id, args)
        )
        return Connection[Conversation].from_page(page, Conversation.from_model)

    @classmethod
    def from_model(cls, row: CompanionRow) -> Companion:
        # Plain fields resolve faster than one resolver method per field.
        return cls(
            row=row,
            id=strawberry.ID(ids.encode("Companion", row.id)),
            name=row.name,
            persona=row.persona,
            backstory=row.backstory,
            traits=list(row.traits or []),
            language=row.language,
            greeting=row.greeting,
            personality=row.personality,
            scenario=row.scenario,
            example_dialogue=row.example_dialogue,
            system_prompt=row.system_prompt,
            post_history_instructions=row.post_history_instructions,
            alternate_greetings=list(row.alternate_greetings or []),
            memory_enabled=row.memory_enabled,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
