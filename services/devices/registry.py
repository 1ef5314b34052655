"""A person's devices: approve a pairing into a device row, revoke, assign, configure.

Each function changes rows only; ``DeviceService`` publishes what the change means to devices
and apps once the transaction has committed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import validation
from services.errors import Forbidden, NotFound
from services.identity import Viewer
from services.quotas import check_can_add_device
from store.models import Companion, DevicePairing, HologramDevice, PairingStatus


async def approve(
    session: AsyncSession, viewer: Viewer, pairing: DevicePairing, name: str, now: datetime
) -> HologramDevice:
    """Create (or re-activate) the device the pairing describes, owned by ``viewer``."""
    name = validation.text(name, "name", min_len=1, max_len=80)
    device = await session.scalar(
        select(HologramDevice).where(
            HologramDevice.owner_id == viewer.user_id, HologramDevice.serial == pairing.serial
        )
    )
    if device is None or device.revoked_at is not None:  # a new slot of the plan
        await check_can_add_device(session, viewer.user_id)
    if device is None:
        device = HologramDevice(
            owner_id=viewer.user_id,
            serial=pairing.serial,
            token_version=0,
            speaks=not await _has_speaking_device(session, viewer.user_id),
        )
        session.add(device)
    else:
        # The same hardware paired again: tokens it had before stop working.
        device.token_version += 1
        device.revoked_at = None
        device.presence_session = None
    device.name = name
    device.model = pairing.model
    device.capabilities = list(pairing.capabilities or [])
    await session.flush()
    pairing.status = PairingStatus.APPROVED
    pairing.owner_id = viewer.user_id
    pairing.device_id = device.id
    pairing.decided_at = now
    await session.commit()
    return device


async def deny(
    session: AsyncSession, viewer: Viewer, pairing: DevicePairing, now: datetime
) -> None:
    pairing.status = PairingStatus.DENIED
    pairing.owner_id = viewer.user_id
    pairing.decided_at = now
    await session.commit()


async def owned(session: AsyncSession, viewer: Viewer, device_id: int) -> HologramDevice:
    device = await session.get(HologramDevice, device_id)
    if device is None or device.owner_id != viewer.user_id or device.revoked_at is not None:
        raise NotFound("Device")
    return device


async def own_device(session: AsyncSession, viewer: Viewer) -> HologramDevice:
    """The device a device token speaks for."""
    if viewer.device_id is None:
        raise Forbidden("Only a device token can do this")
    device = await session.get(HologramDevice, viewer.device_id)
    if device is None or device.revoked_at is not None:
        raise Forbidden("This device was unpaired")
    return device


async def revoke(session: AsyncSession, viewer: Viewer, device_id: int, now: datetime) -> int:
    device = await owned(session, viewer, device_id)
    device.token_version += 1
    device.revoked_at = now
    device.presence_session = None
    await session.commit()
    return device.id


async def assign_companion(
    session: AsyncSession, viewer: Viewer, device_id: int, companion_id: int
) -> HologramDevice:
    device = await owned(session, viewer, device_id)
    companion = await session.get(Companion, companion_id)
    if companion is None or companion.owner_id != viewer.user_id:
        raise NotFound("Companion")
    device.active_companion_id = companion.id
    await session.commit()
    return device


async def set_speaking(
    session: AsyncSession, viewer: Viewer, device_id: int
) -> list[tuple[HologramDevice, bool]]:
    """Make one device the speaker; returns every device whose ``speaks`` changed."""
    chosen = await owned(session, viewer, device_id)
    rows = (
        await session.scalars(
            select(HologramDevice).where(
                HologramDevice.owner_id == viewer.user_id, HologramDevice.revoked_at.is_(None)
            )
        )
    ).all()
    changed: list[tuple[HologramDevice, bool]] = []
    for row in rows:
        speaks = row.id == chosen.id
        if row.speaks != speaks:
            row.speaks = speaks
            changed.append((row, speaks))
    await session.commit()
    return changed


async def _has_speaking_device(session: AsyncSession, user_id: int) -> bool:
    found = await session.scalar(
        select(HologramDevice.id)
        .where(
            HologramDevice.owner_id == user_id,
            HologramDevice.revoked_at.is_(None),
            HologramDevice.speaks.is_(True),
        )
        .limit(1)
    )
    return found is not None
