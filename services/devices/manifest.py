"""What a device needs to render its companion: model, mouth and face mappings, clips, voice.

Viseme maps are normalised to ``viseme -> [(blendshape, weight)]`` for all 15 visemes. Without a
map of its own a VRM gets its version's preset expressions (VRM 1.0: aa ih ou ee oh, happy angry
sad relaxed surprised; VRM 0.x: A I U E O, Joy Angry Sorrow Fun) and a GLB the Ready Player Me /
Oculus names (``viseme_aa``); entries of the character's own map win. Blink and look-at are never
mapped: a VRM model drives them by its own settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.devices import registry
from services.identity import Viewer
from store.models import AnimationSequence, CharacterAsset, Companion, HologramDevice, VoiceProfile

VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou")
EMOTIONS = (
    "neutral",
    "joy",
    "sadness",
    "anger",
    "fear",
    "surprise",
    "disgust",
    "affection",
    "thinking",
)

Weights = list[tuple[str, float]]

VRM_VISEMES: dict[str, Weights] = {
    "sil": [],
    "PP": [],
    "FF": [("ih", 0.4)],
    "TH": [("ih", 0.5)],
    "DD": [("ih", 0.6)],
    "kk": [("ih", 0.5), ("aa", 0.2)],
    "CH": [("ih", 0.6), ("ou", 0.3)],
    "SS": [("ih", 0.7)],
    "nn": [("ih", 0.4)],
    "RR": [("ou", 0.5)],
    "aa": [("aa", 1.0)],
    "E": [("ee", 1.0)],
    "ih": [("ih", 1.0)],
    "oh": [("oh", 1.0)],
    "ou": [("ou", 1.0)],
}
VRM_EMOTIONS = {
    "neutral": "neutral",
    "joy": "happy",
    "sadness": "sad",
    "anger": "angry",
    "fear": "surprised",
    "surprise": "surprised",
    "disgust": "angry",
    "affection": "relaxed",
    "thinking": "neutral",
}
# VRM 0.x preset names for VRM 1.0's (UniVRM's migration pairs them the same way: Fun became
# relaxed). VRM 0.x has no surprised preset: surprise and fear show Neutral rather than a wrong
# face; a character's emotionMap can name a clip of its own (a custom "Surprised") instead.
VRM0_NAMES = {
    "aa": "A",
    "ih": "I",
    "ou": "U",
    "ee": "E",
    "oh": "O",
    "neutral": "Neutral",
    "happy": "Joy",
    "angry": "Angry",
    "sad": "Sorrow",
    "relaxed": "Fun",
    "surprised": "Neutral",
}
VRM_VERSIONS = ("VRM1", "VRM0")


@dataclass(frozen=True, slots=True)
class Manifest:
    device: HologramDevice
    companion: Companion | None
    character: CharacterAsset | None
    animations: list[AnimationSequence]
    voice: VoiceProfile | None
    visemes: dict[str, Weights]
    emotions: dict[str, str]


def viseme_blendshapes(fmt: str, custom: dict[str, Any], vrm: str = "VRM1") -> dict[str, Weights]:
    if fmt.upper() == "VRM":
        rename = VRM0_NAMES if vrm == "VRM0" else {}
        base = {k: [(rename.get(n, n), w) for n, w in v] for k, v in VRM_VISEMES.items()}
    else:
        base = {v: ([] if v == "sil" else [(f"viseme_{v}", 1.0)]) for v in VISEMES}
    for viseme, value in (custom or {}).items():
        if viseme in base:
            base[viseme] = _weights(value)
    return base


def emotion_animations(fmt: str, custom: dict[str, Any], vrm: str = "VRM1") -> dict[str, str]:
    if fmt.upper() == "VRM":
        rename = VRM0_NAMES if vrm == "VRM0" else {}
        base = {e: rename.get(name, name) for e, name in VRM_EMOTIONS.items()}
    else:
        base = {e: e for e in EMOTIONS}
    for emotion, value in (custom or {}).items():
        if emotion in base and isinstance(value, str):
            base[emotion] = value
    return base


def _weights(value: Any) -> Weights:
    """The three spellings of the Unity client's map: "name", {name, weight}, or a list."""
    if isinstance(value, str):
        return [(value, 1.0)]
    if isinstance(value, dict):
        return [(str(value["name"]), float(value.get("weight", 1.0)))]
    if isinstance(value, list):
        return [w for item in value for w in _weights(item)]
    return []


async def for_device(session: AsyncSession, viewer: Viewer) -> Manifest:
    device = await registry.own_device(session, viewer)
    companion = (
        await session.get(Companion, device.active_companion_id)
        if device.active_companion_id
        else None
    )
    character = None
    voice = None
    animations: list[AnimationSequence] = []
    if companion is not None and companion.character_asset_id is not None:
        character = await session.get(CharacterAsset, companion.character_asset_id)
    if companion is not None and companion.voice_profile_id is not None:
        voice = await session.get(VoiceProfile, companion.voice_profile_id)
    if character is not None:
        animations = list(
            (
                await session.scalars(
                    select(AnimationSequence)
                    .where(AnimationSequence.character_asset_id == character.id)
                    .order_by(AnimationSequence.id)
                )
            ).all()
        )
    fmt = character.format if character else "VRM"
    vrm = character.vrm_version if character else "VRM1"
    return Manifest(
        device=device,
        companion=companion,
        character=character,
        animations=animations,
        voice=voice,
        visemes=viseme_blendshapes(fmt, character.viseme_map if character else {}, vrm),
        emotions=emotion_animations(fmt, character.emotion_map if character else {}, vrm),
    )
