"""Pairing (RFC 8628), the owner's device controls, presence events and the device manifest."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from context.request import Context
from live.feed import LiveSubscription
from live.stream import stream as live_stream
from pipeline.broadcast.hub import EventHub
from pipeline.broadcast.log_base import LogEntry
from schema import ids
from schema.types.account import HologramDevice
from schema.types.devices import (
    AnimationSequence,
    BlendshapeWeight,
    CharacterFormat,
    CharacterManifest,
    DeviceCommandInput,
    DeviceManifest,
    DevicePairingPoll,
    DevicePairingRequest,
    DeviceStatusChanged,
    EmotionAnimation,
    VisemeBlendshapes,
    VoiceSummary,
)
from schema.types.voice import CharacterAsset, VrmVersion
from services import characters
from services.channels import owner_devices_channel
from services.devices import manifest as manifests
from services.devices.pairing import PollResult
from services.devices.presence import is_online
from services.devices.service import DeviceService
from services.errors import Forbidden
from services.identity import Viewer
from store.base import utcnow
from store.models import HologramDevice as DeviceRow


def service(context: Context) -> DeviceService:
    if context.app.devices is None:
        raise RuntimeError("device service not started")
    return context.app.devices


def device_type(context: Context, row: DeviceRow, online: bool | None = None) -> HologramDevice:
    if online is None:
        online = is_online(row, utcnow(), service(context).presence.heartbeat_s)
    return HologramDevice(row=row, online=online)


def device_viewer(context: Context) -> Viewer:
    viewer = context.any_viewer()
    if not viewer.is_device:
        raise Forbidden("Only a device token can do this")
    return viewer


@strawberry.input
class CharacterAssetInput:
    name: str
    format: CharacterFormat
    url: str
    vrm_version: VrmVersion = strawberry.field(
        default=VrmVersion.VRM1, description="For a VRM: the spec its expressions follow."
    )
    rig: str = ""
    viseme_map: JSON | None = strawberry.field(
        default=None, description='Viseme to blendshape: "name", {name, weight} or a list.'
    )
    emotion_map: JSON | None = strawberry.field(
        default=None, description="Emotion to animation or expression name."
    )


@strawberry.input
class AnimationSequenceInput:
    name: str
    clip: str
    duration_ms: int = 0
    loop: bool = False


@strawberry.type
class DeviceQuery:
    @strawberry.field(description="Device token only: what to render for the assigned companion.")
    async def device_manifest(self, info: strawberry.Info[Context, None]) -> DeviceManifest:
        viewer = device_viewer(info.context)
        async with info.context.app.sessionmaker() as session:
            m = await manifests.for_device(session, viewer)
        return _manifest_type(m)


@strawberry.type
class DeviceMutation:
    @strawberry.mutation(description="A device without a token asks for codes (no auth).")
    async def request_device_pairing(
        self,
        info: strawberry.Info[Context, None],
        model: str,
        serial: str,
        capabilities: list[str],
    ) -> DevicePairingRequest:
        _anonymous_or_person(info.context)
        await info.context.limit("request_device_pairing")
        issued = await service(info.context).request_pairing(model, serial, capabilities)
        return DevicePairingRequest.from_codes(issued)

    @strawberry.mutation(description="RFC 8628 polling; APPROVED carries the token once.")
    async def poll_device_pairing(
        self, info: strawberry.Info[Context, None], device_code: str
    ) -> DevicePairingPoll:
        _anonymous_or_person(info.context)
        await info.context.limit("poll_device_pairing")
        return DevicePairingPoll.from_result(await service(info.context).poll_pairing(device_code))

    @strawberry.mutation(description="Approve the device showing userCode, and name it.")
    async def pair_device(
        self, info: strawberry.Info[Context, None], user_code: str, name: str
    ) -> HologramDevice:
        viewer = info.context.person()
        row = await service(info.context).pair(viewer, user_code, name)
        return device_type(info.context, row, online=False)

    @strawberry.mutation(description="Refuse the device showing userCode.")
    async def deny_device_pairing(
        self, info: strawberry.Info[Context, None], user_code: str
    ) -> bool:
        viewer = info.context.person()
        return await service(info.context).deny(viewer, user_code)

    @strawberry.mutation(description="Revoke the device's token now and close its streams.")
    async def unpair_device(self, info: strawberry.Info[Context, None], id: strawberry.ID) -> bool:
        viewer = info.context.person()
        return await service(info.context).unpair(viewer, ids.decode("HologramDevice", id))

    @strawberry.mutation(description="The device shows this companion and streams its replies.")
    async def assign_companion_to_device(
        self,
        info: strawberry.Info[Context, None],
        device_id: strawberry.ID,
        companion_id: strawberry.ID,
    ) -> HologramDevice:
        viewer = info.context.person()
        row = await service(info.context).assign_companion(
            viewer, ids.decode("HologramDevice", device_id), ids.decode("Companion", companion_id)
        )
        return device_type(info.context, row)

    @strawberry.mutation
    async def send_device_command(
        self,
        info: strawberry.Info[Context, None],
        device_id: strawberry.ID,
        command: DeviceCommandInput,
    ) -> HologramDevice:
        viewer = info.context.person()
        animation = command.play_animation
        row = await service(info.context).send_command(
            viewer,
            ids.decode("HologramDevice", device_id),
            play_animation=None if animation is None else (animation.name, animation.loop),
            volume=command.volume,
            sleep=command.sleep,
        )
        return device_type(info.context, row)

    @strawberry.mutation(description="This device plays audio; your other devices show text.")
    async def set_speaking_device(
        self, info: strawberry.Info[Context, None], device_id: strawberry.ID
    ) -> HologramDevice:
        viewer = info.context.person()
        row = await service(info.context).set_speaking(
            viewer, ids.decode("HologramDevice", device_id)
        )
        return device_type(info.context, row)

    @strawberry.mutation(description="Device token only: what the device is running and doing.")
    async def report_device_state(
        self,
        info: strawberry.Info[Context, None],
        firmware: str | None = None,
        volume: float | None = None,
        asleep: bool | None = None,
    ) -> HologramDevice:
        viewer = device_viewer(info.context)
        row = await service(info.context).report_state(viewer, firmware, volume, asleep)
        return device_type(info.context, row)

    @strawberry.mutation
    async def create_character_asset(
        self, info: strawberry.Info[Context, None], input: CharacterAssetInput
    ) -> CharacterAsset:
        viewer = info.context.person()
        fields = characters.CharacterFields(
            name=input.name,
            format=input.format.value,
            url=input.url,
            rig=input.rig,
            viseme_map=input.viseme_map or {},  # type: ignore[arg-type]
            emotion_map=input.emotion_map or {},  # type: ignore[arg-type]
            vrm_version=input.vrm_version.value,
        )
        async with info.context.app.sessionmaker() as session:
            row = await characters.create(session, viewer, fields)
        return CharacterAsset.from_model(row)

    @strawberry.mutation
    async def add_animation_sequence(
        self,
        info: strawberry.Info[Context, None],
        character_asset_id: strawberry.ID,
        input: AnimationSequenceInput,
    ) -> AnimationSequence:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            row = await characters.add_animation(
                session,
                viewer,
                ids.decode("CharacterAsset", character_asset_id),
                input.name,
                input.clip,
                input.duration_ms,
                input.loop,
            )
        return AnimationSequence.from_model(row)


@strawberry.type
class DeviceSubscription:
    @strawberry.subscription(description="The pairing's state now and on each change (no auth).")
    async def device_pairing(
        self, info: strawberry.Info[Context, None], device_code: str
    ) -> AsyncGenerator[DevicePairingPoll, None]:
        context = info.context
        _anonymous_or_person(context)

        def event_for(entry: LogEntry) -> DevicePairingPoll:
            assert isinstance(entry, _Pairing)
            return DevicePairingPoll.from_result(entry.state)

        subscription = LiveSubscription(
            channel="pairing",
            after=None,
            event_for=event_for,
            viewer=None,  # no token yet: nothing expires, nothing to erase
            base_url=context.media_base_url,
            source=_pairing(service(context).pairing_updates(device_code)),
            shared=False,  # the device's token, once, to this socket alone
        )
        async for event in live_stream(context, subscription):
            yield event

    @strawberry.subscription(description="Your devices going online or offline.")
    async def device_status_changed(
        self, info: strawberry.Info[Context, None]
    ) -> AsyncGenerator[DeviceStatusChanged, None]:
        context = info.context
        viewer = context.person()
        hub = context.app.hub
        assert hub is not None
        channel = owner_devices_channel(viewer.user_id)

        def event_for(entry: LogEntry) -> DeviceStatusChanged:
            assert isinstance(entry, _Status)
            return DeviceStatusChanged(device=device_type(context, entry.row, entry.online))

        subscription = LiveSubscription(
            channel=channel,
            after=None,
            event_for=event_for,
            viewer=viewer,
            base_url=context.media_base_url,
            source=_statuses(context, hub, channel),
        )
        async for event in live_stream(context, subscription):
            yield event


@dataclass(frozen=True, slots=True)
class _Pairing(LogEntry):
    state: PollResult


async def _pairing(states: AsyncIterator[PollResult]) -> AsyncIterator[LogEntry]:
    """The pairing's states as entries (numbered: nothing resumes them)."""
    seq = 0
    try:
        async for state in states:
            seq += 1
            yield _Pairing(str(seq), "", state)
    finally:
        await states.aclose()  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class _Status(LogEntry):
    row: DeviceRow
    online: bool


async def _statuses(context: Context, hub: EventHub, channel: str) -> AsyncIterator[LogEntry]:
    """Each change from now on, with its device as it is (a device deleted since: skipped)."""
    stream = hub.subscribe(channel, await hub.tail(channel))
    try:
        async for entry in stream:
            payload = json.loads(entry.payload)
            async with context.app.sessionmaker() as session:
                row = await session.get(DeviceRow, int(payload["device_id"]))
            if row is None:
                continue
            if payload.get("last_seen_at"):
                row.last_seen_at = datetime.fromisoformat(payload["last_seen_at"])
            yield _Status(entry.cursor, entry.payload, row, bool(payload["online"]))
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


def _anonymous_or_person(context: Context) -> None:
    """Pairing is for devices without a token; a paired device's token may not start another."""
    if context.viewer is not None and context.viewer.is_device:
        raise Forbidden("A device token cannot do this")


def _manifest_type(m: manifests.Manifest) -> DeviceManifest:
    character = m.character
    return DeviceManifest(
        device_id=strawberry.ID(ids.encode("HologramDevice", m.device.id)),
        companion_id=None
        if m.companion is None
        else strawberry.ID(ids.encode("Companion", m.companion.id)),
        companion_name=None if m.companion is None else m.companion.name,
        speaks=m.device.speaks,
        volume=m.device.volume,
        asleep=m.device.asleep,
        character=CharacterManifest(
            id=None
            if character is None
            else strawberry.ID(ids.encode("CharacterAsset", character.id)),
            name=character.name if character else "default",
            url=character.url if character else None,
            format=character.format if character else "VRM",
            vrm_version=VrmVersion(character.vrm_version if character else "VRM1"),
            rig=character.rig if character else "vrm",
            viseme_blendshapes=[
                VisemeBlendshapes(
                    viseme=v, blendshapes=[BlendshapeWeight(name=n, weight=w) for n, w in shapes]
                )
                for v, shapes in m.visemes.items()
            ],
            emotion_animations=[
                EmotionAnimation(emotion=e, animation=a) for e, a in m.emotions.items()
            ],
            animations=[AnimationSequence.from_model(a) for a in m.animations],
        ),
        voice=None
        if m.voice is None
        else VoiceSummary(
            id=strawberry.ID(ids.encode("VoiceProfile", m.voice.id)),
            name=m.voice.name,
            provider=m.voice.provider,
            voice_id=m.voice.voice_id,
            language=m.voice.language,
            speed=m.voice.speed,
        ),
    )
