"""Device pairing, presence, commands and the device's own stream (`HologramEvent`)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

import strawberry

from schema import ids
from schema.types.account import HologramDevice
from schema.types.events import (
    AudioChunk,
    EmotionChanged,
    MessageDelta,
    MessagePosted,
    ReplyCompleted,
    ReplyDegraded,
    ReplyFailed,
    ReplyInterrupted,
    ReplyStarted,
    VisemeFrames,
)
from services.devices.pairing import IssuedCodes, PollResult
from store.models import AnimationSequence as AnimationRow


@strawberry.enum(description="RFC 8628 answers to a device that polls with its device code.")
class PairingStatus(enum.Enum):
    PENDING = "PENDING"
    SLOW_DOWN = "SLOW_DOWN"
    EXPIRED = "EXPIRED"
    APPROVED = "APPROVED"
    DENIED = "DENIED"


@strawberry.type(description="Show userCode and verificationUri; poll with deviceCode.")
class DevicePairingRequest:
    device_code: str = strawberry.field(description="The device's secret; never show it.")
    user_code: str = strawberry.field(description="Short code the owner types, e.g. WDJB-MJHT.")
    verification_uri: str
    expires_in: int = strawberry.field(description="Seconds until both codes expire.")
    interval: int = strawberry.field(description="Seconds to wait between polls.")

    @classmethod
    def from_codes(cls, c: IssuedCodes) -> DevicePairingRequest:
        return cls(
            device_code=c.device_code,
            user_code=c.user_code,
            verification_uri=c.verification_uri,
            expires_in=c.expires_in,
            interval=c.interval,
        )


@strawberry.type
class DevicePairingPoll:
    status: PairingStatus
    device_token: str | None = strawberry.field(
        default=None, description="Only once, with APPROVED; send it as the device's bearer."
    )
    device_id: strawberry.ID | None = None

    @classmethod
    def from_result(cls, r: PollResult) -> DevicePairingPoll:
        return cls(
            status=PairingStatus(r.status),
            device_token=r.device_token,
            device_id=None
            if r.device_id is None
            else strawberry.ID(ids.encode("HologramDevice", r.device_id)),
        )


@strawberry.type(description="A device of yours went online or offline.")
class DeviceStatusChanged:
    device: HologramDevice


# ---- commands in the device's stream --------------------------------------------------------


@strawberry.interface(description="A command to one device; resume with its cursor like replies.")
class DeviceCommand:
    cursor: str
    at: datetime


@strawberry.type(description="Show this companion now; replies come from it from here on.")
class CompanionSwitched(DeviceCommand):
    companion_id: strawberry.ID | None


@strawberry.type
class PlayAnimation(DeviceCommand):
    name: str
    loop: bool


@strawberry.type
class VolumeChanged(DeviceCommand):
    volume: float


@strawberry.type
class SleepChanged(DeviceCommand):
    asleep: bool


HologramEvent = Annotated[
    MessagePosted
    | ReplyStarted
    | MessageDelta
    | AudioChunk
    | VisemeFrames
    | EmotionChanged
    | ReplyDegraded
    | ReplyCompleted
    | ReplyInterrupted
    | ReplyFailed
    | CompanionSwitched
    | PlayAnimation
    | VolumeChanged
    | SleepChanged,
    strawberry.union(
        "HologramEvent",
        description="The assigned companion's replies plus commands to this device.",
    ),
]


@strawberry.input(description="Give one or more; each becomes its own event on the device.")
class PlayAnimationInput:
    name: str
    loop: bool = False


@strawberry.input
class DeviceCommandInput:
    play_animation: PlayAnimationInput | None = None
    volume: float | None = strawberry.field(default=None, description="0 to 1")
    sleep: bool | None = None


# ---- characters and the manifest ------------------------------------------------------------


@strawberry.enum
class CharacterFormat(enum.Enum):
    VRM = "VRM"
    GLB = "GLB"


@strawberry.type
class AnimationSequence:
    id: strawberry.ID
    name: str
    clip: str
    duration_ms: int
    loop: bool

    @classmethod
    def from_model(cls, row: AnimationRow) -> AnimationSequence:
        return cls(
            id=strawberry.ID(ids.encode("AnimationSequence", row.id)),
            name=row.name,
            clip=row.clip,
            duration_ms=row.duration_ms,
            loop=row.loop,
        )


@strawberry.type
class BlendshapeWeight:
    name: str
    weight: float


@strawberry.type(description="The blendshapes that make one of the 15 visemes (empty: rest).")
class VisemeBlendshapes:
    viseme: str
    blendshapes: list[BlendshapeWeight]


@strawberry.type
class EmotionAnimation:
    emotion: str
    animation: str


@strawberry.type
class CharacterManifest:
    id: strawberry.ID | None
    name: str
    url: str | None = strawberry.field(description="Null: no model assigned, use the default.")
    format: str
    rig: str
    viseme_blendshapes: list[VisemeBlendshapes]
    emotion_animations: list[EmotionAnimation]
    animations: list[AnimationSequence]


@strawberry.type
class VoiceSummary:
    id: strawberry.ID
    name: str
    provider: str
    voice_id: str
    language: str
    speed: float


@strawberry.type(description="Everything a device needs to render its assigned companion.")
class DeviceManifest:
    device_id: strawberry.ID
    companion_id: strawberry.ID | None
    companion_name: str | None
    speaks: bool
    volume: float
    asleep: bool
    character: CharacterManifest
    voice: VoiceSummary | None


def command_from_payload(cursor: str, command: dict[str, Any]) -> Any:
    """The union member for one logged device command (see services/devices/channels.py)."""
    at = datetime.fromisoformat(command["at"])
    kind, data = command["type"], command["data"]
    if kind == "CompanionSwitched":
        cid = data.get("companion_id")
        return CompanionSwitched(
            cursor=cursor,
            at=at,
            companion_id=None if cid is None else strawberry.ID(ids.encode("Companion", cid)),
        )
    if kind == "PlayAnimation":
        return PlayAnimation(cursor=cursor, at=at, name=data["name"], loop=bool(data["loop"]))
    if kind == "VolumeChanged":
        return VolumeChanged(cursor=cursor, at=at, volume=float(data["volume"]))
    if kind == "SleepChanged":
        return SleepChanged(cursor=cursor, at=at, asleep=bool(data["asleep"]))
    raise ValueError(f"unknown device command {kind!r}")
