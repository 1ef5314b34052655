"""companion, companions, createCompanion, updateCompanion, deleteCompanion."""

from __future__ import annotations

import strawberry

from context.request import Context
from schema import ids
from schema.types.companion import Companion
from schema.types.connection import Connection
from services import character_cards, companions
from services.paging import PageArgs, paginate_many
from store.models import Companion as CompanionRow


@strawberry.input
class CreateCompanionInput:
    name: str
    persona: str = ""
    backstory: str = ""
    traits: list[str] = strawberry.field(default_factory=list)
    language: str = "en"
    greeting: str = ""
    personality: str = ""
    scenario: str = ""
    example_dialogue: str = ""
    system_prompt: str = ""
    post_history_instructions: str = ""
    alternate_greetings: list[str] = strawberry.field(default_factory=list)
    voice_profile_id: strawberry.ID | None = None
    character_asset_id: strawberry.ID | None = None


@strawberry.input(description="Only the fields given change; pass null ids via the clear flags.")
class UpdateCompanionInput:
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
    memory_enabled: bool | None = strawberry.field(
        default=None, description="Off: the companion neither forms nor recalls memories."
    )
    voice_profile_id: strawberry.ID | None = None
    character_asset_id: strawberry.ID | None = None
    clear_voice_profile: bool = False
    clear_character_asset: bool = False


def _optional_id(kind: str, value: strawberry.ID | None) -> int | None:
    return None if value is None else ids.decode(kind, value)


def _fields(input: CreateCompanionInput | UpdateCompanionInput) -> companions.CompanionFields:
    return companions.CompanionFields(
        name=input.name,
        persona=input.persona,
        backstory=input.backstory,
        traits=input.traits,
        language=input.language,
        greeting=input.greeting,
        personality=input.personality,
        scenario=input.scenario,
        example_dialogue=input.example_dialogue,
        system_prompt=input.system_prompt,
        post_history_instructions=input.post_history_instructions,
        alternate_greetings=input.alternate_greetings,
        voice_profile_id=_optional_id("VoiceProfile", input.voice_profile_id),
        character_asset_id=_optional_id("CharacterAsset", input.character_asset_id),
    )


@strawberry.type
class CompanionQuery:
    @strawberry.field
    async def companion(self, info: strawberry.Info[Context, None], id: strawberry.ID) -> Companion:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            row = await companions.get_owned(session, viewer, ids.decode("Companion", id))
        return Companion.from_model(row)

    @strawberry.field(description="The caller's companions, oldest first.")
    async def companions(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Companion]:
        viewer = info.context.person()
        args = PageArgs(first=first, after=after).validated()
        async with info.context.app.sessionmaker() as session:
            pages = await paginate_many(
                session, CompanionRow, CompanionRow.owner_id, [viewer.user_id], args
            )
        return Connection[Companion].from_page(pages[viewer.user_id], Companion.from_model)


@strawberry.type
class CompanionMutation:
    @strawberry.mutation
    async def create_companion(
        self, info: strawberry.Info[Context, None], input: CreateCompanionInput
    ) -> Companion:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            row = await companions.create(session, viewer, _fields(input))
        return Companion.from_model(row)

    @strawberry.mutation
    async def update_companion(
        self, info: strawberry.Info[Context, None], id: strawberry.ID, input: UpdateCompanionInput
    ) -> Companion:
        viewer = info.context.person()
        fields = _fields(input)
        fields.memory_enabled = input.memory_enabled
        fields.clear_voice_profile = input.clear_voice_profile
        fields.clear_character_asset = input.clear_character_asset
        async with info.context.app.sessionmaker() as session:
            row = await companions.update(session, viewer, ids.decode("Companion", id), fields)
        return Companion.from_model(row)

    @strawberry.mutation(
        description="Deletes the companion, its conversations, lorebook and picture; "
        "returns its id."
    )
    async def delete_companion(
        self, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> strawberry.ID:
        viewer = info.context.person()
        pk = ids.decode("Companion", id)
        async with info.context.app.sessionmaker() as session:
            await companions.remove(session, viewer, pk)
        if info.context.app.storage is not None:  # its picture and exported cards
            await character_cards.forget_files(info.context.app.storage, viewer.user_id, pk)
        return id
