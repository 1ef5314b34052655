"""Device pairing, presence, commands and the device's own stream (`HologramEvent`)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, Union

import strawberry

from pipeline import events as ev
from pipeline.event_codec import LoggedCommand, decode_command
from schema import ids
from schema.types.account import HologramDevice
from schema.types.derived import Derived, derive
from schema.types.events import EVENT_TYPES, VALUES
from schema.types.voice import VrmVersion
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


COMMAND_TYPES: Mapping[type[Any], Derived] = {
    cls: derive(cls, (DeviceCommand,), VALUES) for cls in ev.DEVICE_COMMANDS
}
"""Every declared device command and its GraphQL type (pipeline/events.py declares them)."""

if TYPE_CHECKING:
    HologramEvent: TypeAlias = Any
else:
    HologramEvent = Annotated[
        Union[  # noqa: UP007 - built at runtime
            tuple({**EVENT_TYPES, **COMMAND_TYPES}[cls].graphql for cls in ev.HOLOGRAM_EVENTS)
        ],
        strawberry.union(
            "HologramEvent",
            description="The assigned companion's replies and voice sessions, plus commands to "
            "this device.",
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
    vrm_version: VrmVersion = strawberry.field(
        description="The preset names the default maps below use (a GLB: VRM1, unused)."
    )
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


def command_object(cursor: str, logged: LoggedCommand) -> Any:
    """The union member for one decoded device command; the stream's internal commands
    (``Revoked``, ``SpeakingChanged``) have none."""
    derived = COMMAND_TYPES.get(type(logged.command))
    if derived is None:
        raise ValueError(f"{type(logged.command).__name__} is not shown to devices")
    return derived.build(logged.command, _no_media, cursor=cursor, at=logged.at)


def command_from_payload(cursor: str, command: str | bytes | Mapping[str, Any]) -> Any:
    """The union member for one logged device command (its JSON or that JSON loaded)."""
    return command_object(cursor, decode_command(command))


def _no_media(key: str) -> str:
    raise AssertionError("device commands carry no media")
