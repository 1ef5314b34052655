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

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("Companion", self.row.id))

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def persona(self) -> str:
        return self.row.persona

    @strawberry.field
    def backstory(self) -> str:
        return self.row.backstory

    @strawberry.field
    def traits(self) -> list[str]:
        return list(self.row.traits or [])

    @strawberry.field
    def language(self) -> str:
        return self.row.language

    @strawberry.field
    def greeting(self) -> str:
        return self.row.greeting

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.row.updated_at

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
        return cls(row=row)
