"""The AI companion: persona, voice and 3D character."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.context import Context
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
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
