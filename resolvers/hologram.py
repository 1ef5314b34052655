"""``hologramEvents``: one device's stream, merged from its command channel and the reply
channel of the companion assigned to it, resumable across both with one composite cursor.

While it is open the device counts as online (heartbeats refresh ``lastSeenAt``). An unpair
reaches it as a command on the device channel, from any process: it closes the socket (4403).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from context.request import Context
from live.stream import TOKEN_EXPIRED_CLOSE
from pipeline.broadcast.errors import CursorExpired, InvalidCursor
from pipeline.broadcast.hub import EventHub
from pipeline.broadcast.log_base import LogEntry
from resolvers.devices import device_viewer, service
from resolvers.replies import _signer
from schema import ids
from schema.types.devices import HologramEvent, command_from_payload
from schema.types.events import event_from_payload
from services.channels import companion_channel, device_channel
from services.devices import channels, registry
from services.devices.cursor import HoloCursor
from services.devices.presence import Presence
from services.errors import BadUserInput, Forbidden, Unauthenticated
from services.errors import CursorExpired as CursorExpiredError
from store.models import HologramDevice as DeviceRow

log = logging.getLogger("holomate.hologram")
DEVICE_UNPAIRED_CLOSE = 4403
AUDIO_ONLY = {"AudioChunk", "VisemeFrames"}  # what a device that does not speak skips

Item = tuple[str, int, LogEntry | None, BaseException | None]


class _Merge:
    """Pumps hub subscriptions into one queue; a companion stream is tagged with a generation,
    so events still queued from the companion before a switch are dropped."""

    def __init__(self, hub: EventHub) -> None:
        self.hub = hub
        self.queue: asyncio.Queue[Item] = asyncio.Queue()
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, tag: str, generation: int, channel: str, after: str) -> None:
        self.stop(tag)
        self.tasks[tag] = asyncio.create_task(self._pump(tag, generation, channel, after))

    def stop(self, tag: str) -> None:
        task = self.tasks.pop(tag, None)
        if task is not None:
            task.cancel()

    async def aclose(self) -> None:
        tasks = list(self.tasks.values())
        self.tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _pump(self, tag: str, generation: int, channel: str, after: str) -> None:
        try:
            async with contextlib.aclosing(self.hub.subscribe(channel, after)) as stream:  # type: ignore[type-var]
                async for entry in stream:
                    await self.queue.put((tag, generation, entry, None))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - handed to the resolver, which answers it
            await self.queue.put((tag, generation, None, e))


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
        speaks = device.speaks
        sign = _signer(context.app, context.media_base_url)
        merge = _Merge(hub)
        generation = 0
        merge.start("d", 0, device_channel(device.id), position.device)
        if position.companion_id is not None and companion_after is not None:
            channel = companion_channel(position.companion_id)
            merge.start("c", generation, channel, companion_after)
        presence = devices.presence
        presence_id = await presence.connect(device.id)
        beat = asyncio.create_task(_heartbeat(presence, device.id, presence_id))
        try:
            while True:
                remaining = viewer.expires_at - time.time()
                if remaining <= 0:
                    raise TimeoutError
                tag, gen, entry, error = await asyncio.wait_for(merge.queue.get(), remaining)
                if error is not None:
                    _raise_stream_error(error)
                assert entry is not None
                if tag == "c":
                    if gen != generation:
                        continue
                    position = position.with_companion(position.companion_id, entry.cursor)
                    payload = json.loads(entry.payload)
                    if not speaks and payload["type"] in AUDIO_ONLY:
                        continue
                    yield event_from_payload(position.encode(), payload, sign)
                    continue
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
                    generation += 1
                    merge.stop("c")
                    cid = data.get("companion_id")
                    start = data.get("companion_after")
                    position = position.with_companion(cid, start if cid is not None else None)
                    if cid is not None and start is not None:
                        merge.start("c", generation, companion_channel(cid), start)
                yield command_from_payload(position.encode(), command)
        except TimeoutError:
            await context.close_socket(TOKEN_EXPIRED_CLOSE, "Token expired")
            raise Unauthenticated("Token expired", reason="TOKEN_EXPIRED") from None
        finally:
            beat.cancel()
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
    except InvalidCursor as e:
        raise BadUserInput("Unknown cursor", field="after") from e
    if position.companion_id == companion and companion is not None:
        return position, position.companion
    return position, None


def _raise_stream_error(error: BaseException) -> None:
    if isinstance(error, InvalidCursor):
        raise BadUserInput("Unknown cursor", field="after") from error
    if isinstance(error, CursorExpired):
        raise CursorExpiredError() from error
    raise error


async def _revoked(context: Context, device_id: int) -> bool:
    """A replayed unpair from an earlier pairing of this hardware must not close a new one."""
    async with context.app.sessionmaker() as session:
        device = await session.get(DeviceRow, device_id)
    return device is None or device.revoked_at is not None


async def _heartbeat(presence: Presence, device_id: int, presence_id: str) -> None:
    while True:
        await asyncio.sleep(presence.heartbeat_s)
        try:
            await presence.heartbeat(device_id, presence_id)
        except Exception:  # noqa: BLE001 - the next beat tries again
            log.exception("heartbeat of device %s failed", device_id)
