"""availableVoices, createVoiceProfile, updateVoiceProfile, deleteVoiceProfile."""

from __future__ import annotations

import strawberry

from context.request import Context
from schema import ids
from schema.types.voice import AvailableVoice, VoiceProfile
from services import voices
from services.voices import VoiceCatalog


@strawberry.input
class CreateVoiceProfileInput:
    name: str
    provider: str = "espeak"
    voice_id: str | None = strawberry.field(
        default=None, description="A voiceId from availableVoices; defaults to the language."
    )
    language: str = "en"
    speed: float = strawberry.field(default=1.0, description="0.5 to 2.0")
    stability: float = strawberry.field(default=0.5, description="0 to 1")
    similarity: float = strawberry.field(default=0.75, description="0 to 1")


@strawberry.input(description="Only the fields given change.")
class UpdateVoiceProfileInput:
    name: str | None = None
    provider: str | None = None
    voice_id: str | None = None
    language: str | None = None
    speed: float | None = None
    stability: float | None = None
    similarity: float | None = None


def _catalog(info: strawberry.Info[Context, None]) -> VoiceCatalog:
    catalog = info.context.app.voices
    if catalog is None:
        raise RuntimeError("voice providers are not configured")
    return catalog


@strawberry.type
class VoiceQuery:
    @strawberry.field(description="Voices of every configured speech provider.")
    async def available_voices(self, info: strawberry.Info[Context, None]) -> list[AvailableVoice]:
        info.context.person()
        return [AvailableVoice.from_info(v) for v in await _catalog(info).available()]


@strawberry.type
class VoiceMutation:
    @strawberry.mutation
    async def create_voice_profile(
        self, info: strawberry.Info[Context, None], input: CreateVoiceProfileInput
    ) -> VoiceProfile:
        viewer = info.context.person()
        fields = voices.VoiceFields(
            name=input.name,
            provider=input.provider,
            voice_id=input.voice_id,
            language=input.language,
            speed=input.speed,
            stability=input.stability,
            similarity=input.similarity,
        )
        catalog = _catalog(info)
        async with info.context.app.sessionmaker() as session:
            row = await voices.create(session, viewer, catalog, fields)
        return VoiceProfile.from_model(row)

    @strawberry.mutation
    async def update_voice_profile(
        self,
        info: strawberry.Info[Context, None],
        id: strawberry.ID,
        input: UpdateVoiceProfileInput,
    ) -> VoiceProfile:
        viewer = info.context.person()
        fields = voices.VoiceFields(
            name=input.name,
            provider=input.provider,
            voice_id=input.voice_id,
            language=input.language,
            speed=input.speed,
            stability=input.stability,
            similarity=input.similarity,
        )
        catalog = _catalog(info)
        async with info.context.app.sessionmaker() as session:
            row = await voices.update(
                session, viewer, ids.decode("VoiceProfile", id), catalog, fields
            )
        return VoiceProfile.from_model(row)

    @strawberry.mutation(description="Companions using the profile fall back to the default voice.")
    async def delete_voice_profile(
        self, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> strawberry.ID:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            await voices.remove(session, viewer, ids.decode("VoiceProfile", id))
        return id
