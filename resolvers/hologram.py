"""``hologramEvents``: one device's stream, merged from its command channel and the reply
channel of the companion assigned to it, resumable across both with one composite cursor.

While it is open the device counts as online (heartbeats refresh ``lastSeenAt``). An unpair
reaches it as a command on the device channel, from any process: it closes the socket (4403).
Delivery (rendering, writing, the token's expiry closing 4401, the log's error codes) is the
live package's, as for every subscription; this module declares the stream's entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import strawberry

from context.request import Context
from live.feed import LiveSubscription
from live.merge import Merge
from live.stream import stream as live_stream
from pipeline import events as ev
from pipeline.broadcast.errors import InvalidCursor
from pipeline.broadcast.hub import EventHub
from pipeline.broadcast.log_base import LogEntry
from resolvers.devices import device_viewer, service
from resolvers.replies import _signer
from schema import ids
from schema.types.devices import HologramEvent, command_from_payload
from schema.types.events import event_from_payload
from services.channels import (
    CONVERSATION_LIVE,
    companion_channel,
    conversation_channel,
    device_channel,
)
from services.devices import channels, registry
from services.devices.cursor import HoloCursor
from services.devices.presence import Presence
from services.errors import BadUserInput, Forbidden
from store.models import HologramDevice as DeviceRow

log = logging.getLogger("holomate.hologram")
DEVICE_UNPAIRED_CLOSE = 4403
AUDIO_ONLY = {"AudioChunk", "VisemeFrames"}  # what a device that does not speak skips
# What holograms are shown of a conversation: replies, and its voice sessions (a listening face)
COMPANION_KINDS = {cls.__name__ for cls in (*ev.COMPANION_EVENTS, *ev.VOICE_EVENTS)}


@dataclass(frozen=True, slots=True)
class _Command(LogEntry):
    """An entry of the device's own channel (the rest are its companion's events)."""


@strawberry.type
class HologramSubscription:
    @strawberry.subscription(
        description="Device token only: the assigned companion's replies and commands to this "
        "device. Pass the last cursor you saw as `after` to resume both without gaps."
    )
    async def hologram_events(
        self,
        info: strawberry.Info[Context, None],
        after: str | None = None,
        device_id: strawberry.ID | None = None,
    ) -> AsyncGenerator[HologramEvent, None]:
        context = info.context
        viewer = device_viewer(context)
        if device_id is not None and ids.decode("HologramDevice", device_id) != viewer.device_id:
            raise Forbidden("A device can only open its own stream")
        devices = service(context)
        hub = context.app.hub
        assert hub is not None and viewer.device_id is not None
        async with context.app.sessionmaker() as session:
            device = await registry.own_device(session, viewer)
        position, companion_after = await _start(hub, device, after)
        base_url = context.media_base_url
        sign = _signer(context.app, base_url)

        def event_for(entry: LogEntry) -> Any:
            payload = json.loads(entry.payload)
            if isinstance(entry, _Command):
                return command_from_payload(entry.cursor, payload)
            return event_from_payload(entry.cursor, payload, sign)

        subscription = LiveSubscription(
            channel=device_channel(device.id),
            after=after,
            event_for=event_for,
            viewer=viewer,
            base_url=base_url,
            source=_device_entries(
                context, hub, devices.presence, device, position, companion_after
            ),
        )
        async for event in live_stream(context, subscription):
            yield event


async def _device_entries(
    context: Context,
    hub: EventHub,
    presence: Presence,
    device: DeviceRow,
    position: HoloCursor,
    companion_after: str | None,
) -> AsyncIterator[LogEntry]:
    """The device's commands and its companion's conversations' events, each with the
    position after it. The companion's channel says which conversations are live (a pointer
    per message); each is followed on its own channel, where every event is logged once.
    What the stream acts on itself (unpairing, speaking, switching companion) is done here.
    While it runs the device counts as online."""
    speaks = device.speaks
    merge = Merge(hub)
    merge.start("d", device_channel(device.id), position.device)
    if position.companion_id is not None and companion_after is not None:
        merge.start("c", companion_channel(position.companion_id), companion_after)
        for conversation_id, at in position.conversations:
            merge.start(f"v:{conversation_id}", conversation_channel(conversation_id), at)
    presence_id = await presence.connect(device.id)  # kept fresh by presence.run()
    try:
        while True:
            tag, entry = await merge.next()
            if tag == "d":
                position = position.with_device(entry.cursor)
                command: dict[str, Any] = json.loads(entry.payload)
                kind, data = command["type"], command["data"]
                if kind == channels.REVOKED:
                    if await _revoked(context, device.id):
                        await context.close_socket(DEVICE_UNPAIRED_CLOSE, "Device unpaired")
                        return
                    continue
                if kind == channels.SPEAKING_CHANGED:
                    speaks = bool(data["speaks"])
                    continue
                if kind == channels.COMPANION_SWITCHED:
                    for cid, _ in position.conversations:
                        merge.stop(f"v:{cid}")
                    merge.stop("c")
                    cid = data.get("companion_id")
                    start = data.get("companion_after")
                    position = position.with_companion(cid, start if cid is not None else None)
                    if cid is not None and start is not None:
                        merge.start("c", companion_channel(cid), start)
                yield _Command(position.encode(), entry.payload)
                continue
            payload = json.loads(entry.payload)
            if tag == "c":
                position = position.with_companion(position.companion_id, entry.cursor)
                if payload["type"] == CONVERSATION_LIVE:
                    conversation_id = int(payload["conversation_id"])
                    if not position.following(conversation_id):
                        before = position.conversations
                        position = position.with_conversation(conversation_id, payload["after"])
                        for cid, _ in before:
                            if not position.following(cid):  # over FOLLOWED_MAX: let go
                                merge.stop(f"v:{cid}")
                        channel = conversation_channel(conversation_id)
                        merge.start(f"v:{conversation_id}", channel, payload["after"])
                    continue
                # else: an event copied to the companion's channel before pointers (a resume
                # from then): shown as it was
            else:
                position = position.with_conversation(int(tag[2:]), entry.cursor)
                if payload["type"] not in COMPANION_KINDS:
                    continue  # the conversation's own (MemoryFormed): not for holograms
            if not speaks and payload["type"] in AUDIO_ONLY:
                continue
            yield LogEntry(position.encode(), entry.payload)
    finally:
        await merge.aclose()
        done = asyncio.ensure_future(presence.disconnect(device.id, presence_id))
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.shield(done)


async def _start(
    hub: EventHub, device: DeviceRow, after: str | None
) -> tuple[HoloCursor, str | None]:
    """Where each stream starts. With a cursor of another companion than the assigned one, the
    companion stream waits for the replayed ``CompanionSwitched``, which says where to start."""
    companion = device.active_companion_id
    if after is None:
        device_tail = await hub.tail(device_channel(device.id))
        if companion is None:
            return HoloCursor(device_tail, None, None), None
        tail = await hub.tail(companion_channel(companion))
        return HoloCursor(device_tail, companion, tail), tail
    position = HoloCursor.decode(after)
    try:
        hub.log.cursor_key(position.device)
        if position.companion is not None:
            hub.log.cursor_key(position.companion)
        for _, at in position.conversations:
            hub.log.cursor_key(at)
    except InvalidCursor as e:
        raise BadUserInput("Unknown cursor", field="after") from e
    if position.companion_id == companion and companion is not None:
        return position, position.companion
    return position, None


async def _revoked(context: Context, device_id: int) -> bool:
    """A replayed unpair from an earlier pairing of this hardware must not close a new one."""
    async with context.app.sessionmaker() as session:
        device = await session.get(DeviceRow, device_id)
    return device is None or device.revoked_at is not None
