"""Voice profiles and 3D characters a companion can use."""

from __future__ import annotations

import enum

import strawberry
from strawberry.scalars import JSON

from pipeline.tts.base import VoiceInfo
from schema import ids
from store.models import CharacterAsset as CharacterAssetRow
from store.models import VoiceProfile as VoiceProfileRow


@strawberry.type
class VoiceProfile:
    id: strawberry.ID
    name: str
    provider: str
    voice_id: str
    language: str
    speed: float
    stability: float
    similarity: float

    @classmethod
    def from_model(cls, row: VoiceProfileRow) -> VoiceProfile:
        return cls(
            id=strawberry.ID(ids.encode("VoiceProfile", row.id)),
            name=row.name,
            provider=row.provider,
            voice_id=row.voice_id,
            language=row.language,
            speed=row.speed,
            stability=row.stability,
            similarity=row.similarity,
        )


@strawberry.enum(
    description="The VRM spec a VRM model follows, which names its expressions: VRM0 (0.x) "
    "A I U E O, Joy Angry Sorrow Fun; VRM1 (1.0) aa ih ou ee oh, happy angry sad relaxed surprised."
)
class VrmVersion(enum.Enum):
    VRM0 = "VRM0"
    VRM1 = "VRM1"


@strawberry.type
class CharacterAsset:
    id: strawberry.ID
    name: str
    format: str
    vrm_version: VrmVersion
    url: str
    rig: str
    viseme_map: JSON
    emotion_map: JSON

    @classmethod
    def from_model(cls, row: CharacterAssetRow) -> CharacterAsset:
        return cls(
            id=strawberry.ID(ids.encode("CharacterAsset", row.id)),
            name=row.name,
            format=row.format,
            vrm_version=VrmVersion(row.vrm_version),
            url=row.url,
            rig=row.rig,
            viseme_map=JSON(row.viseme_map or {}),
            emotion_map=JSON(row.emotion_map or {}),
        )


@strawberry.type(description="A voice a configured speech provider offers, to build a profile.")
class AvailableVoice:
    provider: str
    voice_id: str
    name: str
    language: str
    preview_text: str = strawberry.field(description="A short line to try the voice with.")

    @classmethod
    def from_info(cls, info: VoiceInfo) -> AvailableVoice:
        return cls(
            provider=info.provider,
            voice_id=info.voice_id,
            name=info.name,
            language=info.language,
            preview_text=info.preview_text,
        )
