"""Online or not: a device is online while one of its sockets holds ``hologramEvents`` open.

The socket writes a random session id, and every heartbeat each process refreshes
``last_seen_at`` of all the devices whose sockets it holds, a few hundred per statement (5,000
devices beating one UPDATE each every 30 s cost a quarter of a core). On close the socket
clears the id, but only if it is still its own (a quick reconnect must not be marked offline
by the old socket's late close). A process that crashes clears nothing: its devices go stale
after ``STALE_HEARTBEATS`` missed heartbeats, and ``sweep`` (run by every process) announces it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline.broadcast.hub import EventHub
from services.channels import owner_devices_channel
from store.base import utcnow
from store.models import HologramDevice

log = logging.getLogger("holomate.presence")
STALE_HEARTBEATS = 2.5
BEATS_PER_STATEMENT = 400


def is_online(device: HologramDevice, now: datetime, heartbeat_s: float) -> bool:
    return (
        device.presence_session is not None
        and device.last_seen_at is not None
        and now - device.last_seen_at <= timedelta(seconds=heartbeat_s * STALE_HEARTBEATS)
    )


class Presence:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], hub: EventHub, heartbeat_s: float
    ) -> None:
        self.sessionmaker = sessionmaker
        self.hub = hub
        self.heartbeat_s = heartbeat_s
        self._held: set[tuple[int, str]] = set()  # (device, presence session) of sockets here

    async def connect(self, device_id: int) -> str:
        session_id = secrets.token_hex(16)
        now = utcnow()
        async with self.sessionmaker() as session:
            device = await session.get_one(HologramDevice, device_id)
            device.presence_session = session_id
            device.last_seen_at = now
            owner = device.owner_id
            await session.commit()
        self._held.add((device_id, session_id))
        await self._announce(owner, device_id, True, now)
        return session_id

    async def heartbeat(self) -> int:
        """Refresh every device whose socket this process holds; returns how many."""
        held = list(self._held)
        now = utcnow()
        for start in range(0, len(held), BEATS_PER_STATEMENT):
            chunk = held[start : start + BEATS_PER_STATEMENT]
            async with self.sessionmaker() as session:
                await session.execute(
                    update(HologramDevice)
                    .where(tuple_(HologramDevice.id, HologramDevice.presence_session).in_(chunk))
                    .values(last_seen_at=now)
                )
                await session.commit()
        return len(held)

    async def disconnect(self, device_id: int, session_id: str) -> None:
        self._held.discard((device_id, session_id))
        now = utcnow()
        async with self.sessionmaker() as session:
            result = await session.execute(
                update(HologramDevice)
                .where(
                    HologramDevice.id == device_id,
                    HologramDevice.presence_session == session_id,
                )
                .values(presence_session=None, last_seen_at=now)
            )
            owner = await session.scalar(
                select(HologramDevice.owner_id).where(HologramDevice.id == device_id)
            )
            await session.commit()
        if result.rowcount == 1 and owner is not None:  # type: ignore[attr-defined]
            await self._announce(owner, device_id, False, now)

    async def sweep(self) -> int:
        """Mark devices of vanished processes offline; returns how many."""
        cutoff = utcnow() - timedelta(seconds=self.heartbeat_s * STALE_HEARTBEATS)
        async with self.sessionmaker() as session:
            stale = (
                await session.execute(
                    select(
                        HologramDevice.id,
                        HologramDevice.owner_id,
                        HologramDevice.presence_session,
                        HologramDevice.last_seen_at,
                    ).where(
                        HologramDevice.presence_session.is_not(None),
                        HologramDevice.last_seen_at < cutoff,
                    )
                )
            ).all()
            gone: list[tuple[int, int, datetime | None]] = []
            for device_id, owner_id, session_id, seen in stale:
                result = await session.execute(
                    update(HologramDevice)
                    .where(
                        HologramDevice.id == device_id,
                        HologramDevice.presence_session == session_id,
                    )
                    .values(presence_session=None)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    gone.append((device_id, owner_id, seen))
            await session.commit()
        for device_id, owner_id, seen in gone:
            await self._announce(owner_id, device_id, False, seen)
        return len(gone)

    async def run(self) -> None:
        """Every heartbeat: refresh this process's devices, then mark vanished ones offline."""
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                await self.heartbeat()
            except Exception:  # noqa: BLE001 - the next beat tries again
                log.exception("presence heartbeat failed")
            try:
                await self.sweep()
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("presence sweep failed")

    async def _announce(
        self, owner_id: int, device_id: int, online: bool, seen: datetime | None
    ) -> None:
        payload = json.dumps(
            {
                "device_id": device_id,
                "online": online,
                "last_seen_at": seen.isoformat() if seen else None,
            },
            separators=(",", ":"),
        )
        await self.hub.publish(owner_devices_channel(owner_id), payload)
