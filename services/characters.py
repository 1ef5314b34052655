"""3D characters a companion can wear, and their named animation clips."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from services import validation
from services.devices.manifest import EMOTIONS, VISEMES, VRM_VERSIONS
from services.errors import BadUserInput, NotFound
from services.identity import Viewer
from store.models import AnimationSequence, CharacterAsset

FORMATS = ("VRM", "GLB")
MAX_NAME = 128
MAX_BLENDSHAPES = 16
MAX_ANIMATION_MS = 10 * 60 * 1000


@dataclass(slots=True)
class CharacterFields:
    name: str
    format: str
    url: str
    rig: str
    viseme_map: dict[str, Any]
    emotion_map: dict[str, Any]
    vrm_version: str = "VRM1"


async def create(session: AsyncSession, viewer: Viewer, f: CharacterFields) -> CharacterAsset:
    if f.format not in FORMATS:
        raise BadUserInput("Use VRM or GLB", field="format")
    if f.vrm_version not in VRM_VERSIONS:
        raise BadUserInput("Use VRM0 or VRM1", field="vrmVersion")
    url = validation.text(f.url, "url", min_len=1, max_len=2048)
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise BadUserInput("Give an http(s) URL of the model file", field="url")
    row = CharacterAsset(
        owner_id=viewer.user_id,
        name=validation.text(f.name, "name", min_len=1, max_len=80),
        format=f.format,
        url=url,
        rig=validation.text(f.rig or f.format.lower(), "rig", min_len=1, max_len=32),
        vrm_version=f.vrm_version,
        viseme_map=_checked_map(f.viseme_map, VISEMES, "visemeMap"),
        emotion_map=_checked_map(f.emotion_map, EMOTIONS, "emotionMap"),
    )
    session.add(row)
    await session.commit()
    return row


async def add_animation(
    session: AsyncSession,
    viewer: Viewer,
    character_asset_id: int,
    name: str,
    clip: str,
    duration_ms: int,
    loop: bool,
) -> AnimationSequence:
    asset = await session.get(CharacterAsset, character_asset_id)
    if asset is None or asset.owner_id != viewer.user_id:
        raise NotFound("Character asset")
    if not 0 <= duration_ms <= MAX_ANIMATION_MS:
        raise BadUserInput(f"Must be between 0 and {MAX_ANIMATION_MS}", field="durationMs")
    row = AnimationSequence(
        character_asset_id=asset.id,
        name=validation.text(name, "name", min_len=1, max_len=80),
        clip=validation.text(clip, "clip", min_len=1, max_len=256),
        duration_ms=duration_ms,
        loop=loop,
    )
    session.add(row)
    await session.commit()
    return row


def _checked_map(value: Any, keys: tuple[str, ...], field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > 64:
        raise BadUserInput("Must be an object", field=field)
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise BadUserInput(f"Unknown keys {unknown}; use {' '.join(keys)}", field=field)
    check = _blendshapes if field == "visemeMap" else _animation_name
    return {key: check(entry, field) for key, entry in value.items()}


def _name(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise BadUserInput("Names must be strings", field=field)
    return validation.text(value, field, min_len=1, max_len=MAX_NAME)


def _animation_name(value: Any, field: str) -> str:
    """An emotion plays one named animation or expression."""
    return _name(value, field)


def _blendshapes(value: Any, field: str) -> Any:
    """A viseme moves blendshapes: "name", {name, weight} or a list of those; weights are
    finite and within 0..1, so a device never receives 1e308 to drive a mesh with."""
    if isinstance(value, list):
        if len(value) > MAX_BLENDSHAPES:
            raise BadUserInput(f"At most {MAX_BLENDSHAPES} blendshapes per viseme", field=field)
        return [_blendshape(item, field) for item in value]
    return _blendshape(value, field)


def _blendshape(value: Any, field: str) -> Any:
    if isinstance(value, str):
        return _name(value, field)
    if not isinstance(value, dict) or not set(value) <= {"name", "weight"}:
        raise BadUserInput('Use "name", {name, weight} or a list of those', field=field)
    weight = value.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise BadUserInput("Weights must be numbers", field=field)
    return {
        "name": _name(value.get("name"), field),
        "weight": validation.number(float(weight), field, low=0.0, high=1.0),
    }
