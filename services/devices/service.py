"""The device feature as the resolvers see it: each operation commits, then publishes.

Channels (services/channels.py): ``pairing:<hash>`` wakes a device waiting on
``devicePairing``; ``device:<id>`` carries commands to the device's ``hologramEvents``;
``user:<id>:devices`` tells the owner's apps.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline import events as ev
from pipeline.broadcast.hub import EventHub
from pipeline.event_codec import encode_command
from services import validation
from services.auth.cache import VerifiedTokens
from services.auth.revocations import DEVICE_UNPAIRED, Ended, Revocations
from services.auth.tokens import TokenCodec, device_session
from services.channels import companion_channel, device_channel, pairing_channel
from services.devices import codes, pairing, registry
from services.devices.pairing import IssuedCodes, PairingConfig, PollResult
from services.devices.presence import Presence
from services.errors import BadUserInput
from services.identity import Viewer
from store.base import utcnow
from store.models import HologramDevice

ANIMATION_NAME_MAX = 80


@dataclass(slots=True)
class DeviceService:
    sessionmaker: async_sessionmaker[AsyncSession]
    hub: EventHub
    codec: TokenCodec
    verified: VerifiedTokens
    config: PairingConfig
    presence: Presence
    revocations: Revocations

    # ---- pairing -------------------------------------------------------------------------

    async def request_pairing(
        self, model: str, serial: str, capabilities: list[str]
    ) -> IssuedCodes:
        async with self.sessionmaker() as session:
            return await pairing.request_codes(
                session, self.config, model, serial, capabilities, utcnow()
            )

    async def poll_pairing(self, device_code: str) -> PollResult:
        async with self.sessionmaker() as session:
            return await pairing.poll(
                session, self.codec, self.config, codes.code_hash(device_code), utcnow()
            )

    async def pairing_updates(self, device_code: str) -> AsyncIterator[PollResult]:
        """The state now, then each change, until a final one (or the code expires)."""
        code_hash = codes.code_hash(device_code)
        channel = pairing_channel(code_hash)
        after = await self.hub.tail(channel)  # before reading: no decision can slip between
        last: str | None = None
        stream = self.hub.subscribe(channel, after)
        try:
            while True:
                async with self.sessionmaker() as session:
                    state = await pairing.poll(
                        session,
                        self.codec,
                        self.config,
                        code_hash,
                        utcnow(),
                        enforce_interval=False,
                    )
                    expires_at = await pairing.expires_at(session, code_hash)
                if state.status != last:
                    last = state.status
                    yield state
                if state.final:
                    return
                remaining = (expires_at - utcnow()).total_seconds() if expires_at else 0
                try:
                    await asyncio.wait_for(anext(stream), timeout=max(remaining, 0) + 0.05)
                except TimeoutError:
                    pass  # expired: the next read says so
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    async def pair(self, viewer: Viewer, user_code: str, name: str) -> HologramDevice:
        now = utcnow()
        async with self.sessionmaker() as session:
            row = await pairing.find_for_owner(session, self.config, viewer, user_code, now)
            channel = pairing_channel(row.device_code_hash)
            device = await registry.approve(session, viewer, row, name, now)
        self.verified.forget_device(device.id)
        await self.hub.publish(channel, json.dumps({"status": "approved"}))
        return device

    async def deny(self, viewer: Viewer, user_code: str) -> bool:
        now = utcnow()
        async with self.sessionmaker() as session:
            row = await pairing.find_for_owner(session, self.config, viewer, user_code, now)
            channel = pairing_channel(row.device_code_hash)
            await registry.deny(session, viewer, row, now)
        await self.hub.publish(channel, json.dumps({"status": "denied"}))
        return True

    # ---- the owner's controls ------------------------------------------------------------

    async def unpair(self, viewer: Viewer, device_id: int) -> bool:
        async with self.sessionmaker() as session:
            await registry.revoke(session, viewer, device_id, utcnow())
        self.verified.forget_device(device_id)
        # The row already refuses the token; this closes every socket of the device, anywhere.
        unpaired = Ended(
            frozenset({device_session(device_id)}),
            code=4403,
            reason="Device unpaired",
            cause=DEVICE_UNPAIRED,
        )
        await self.revocations.end(unpaired, record=False)
        await self._command(device_id, ev.Revoked())
        return True

    async def assign_companion(
        self, viewer: Viewer, device_id: int, companion_id: int
    ) -> HologramDevice:
        async with self.sessionmaker() as session:
            device = await registry.assign_companion(session, viewer, device_id, companion_id)
        # The stream switches to the new channel right after this cursor: no reply is lost.
        start = await self.hub.tail(companion_channel(companion_id))
        await self._command(
            device_id,
            ev.CompanionSwitched(companion_id, companion_after=start),
        )
        return device

    async def send_command(
        self,
        viewer: Viewer,
        device_id: int,
        *,
        play_animation: tuple[str, bool] | None,
        volume: float | None,
        sleep: bool | None,
    ) -> HologramDevice:
        if play_animation is None and volume is None and sleep is None:
            raise BadUserInput("Give playAnimation, volume or sleep", field="command")
        if play_animation is not None:
            validation.text(
                play_animation[0], "playAnimation.name", min_len=1, max_len=ANIMATION_NAME_MAX
            )
        if volume is not None:
            validation.number(volume, "volume", low=0.0, high=1.0)
        async with self.sessionmaker() as session:
            device = await registry.owned(session, viewer, device_id)
            if volume is not None:
                device.volume = volume
            if sleep is not None:
                device.asleep = sleep
            await session.commit()
        if play_animation is not None:
            name, loop = play_animation
            await self._command(device_id, ev.PlayAnimation(name.strip(), loop))
        if volume is not None:
            await self._command(device_id, ev.VolumeChanged(volume))
        if sleep is not None:
            await self._command(device_id, ev.SleepChanged(sleep))
        return device

    async def set_speaking(self, viewer: Viewer, device_id: int) -> HologramDevice:
        async with self.sessionmaker() as session:
            changed = await registry.set_speaking(session, viewer, device_id)
            device = await registry.owned(session, viewer, device_id)
        for row, speaks in changed:
            await self._command(row.id, ev.SpeakingChanged(speaks))
        return device

    # ---- the device itself ---------------------------------------------------------------

    async def report_state(
        self, viewer: Viewer, firmware: str | None, volume: float | None, asleep: bool | None
    ) -> HologramDevice:
        if firmware is not None:
            firmware = validation.text(firmware, "firmware", max_len=64)
        if volume is not None:
            validation.number(volume, "volume", low=0.0, high=1.0)
        async with self.sessionmaker() as session:
            device = await registry.own_device(session, viewer)
            if firmware is not None:
                device.firmware = firmware
            if volume is not None:
                device.volume = volume
            if asleep is not None:
                device.asleep = asleep
            device.last_seen_at = utcnow()
            await session.commit()
        return device

    async def _command(self, device_id: int, command: ev.Command) -> str:
        return await self.hub.publish(device_channel(device_id), encode_command(utcnow(), command))
