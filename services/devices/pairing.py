"""RFC 8628 device authorization grant, stored in ``device_pairings``.

A device asks for codes (no auth), shows the user code, and polls with the device code; the
owner types the user code in the app (``pairDevice``). The first poll after approval hands out
the device token and spends the code: later polls answer ``EXPIRED``. Wrong user codes count
per owner, so guessing is rate limited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services import validation
from services.auth.tokens import TokenCodec
from services.devices import codes
from services.errors import NotFound, RateLimited
from services.identity import Viewer
from store.models import DevicePairing, HologramDevice, PairingFailure, PairingStatus

# A device's poll may arrive a little early because its clock and ours differ.
POLL_TOLERANCE_S = 0.25


@dataclass(frozen=True, slots=True)
class PairingConfig:
    ttl_s: int = 600
    interval_s: int = 5
    verification_uri: str = "https://holo-mate.app/pair"
    max_failures: int = 5
    failure_window_s: int = 900
    device_token_ttl_s: int = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class IssuedCodes:
    device_code: str
    user_code: str
    verification_uri: str
    expires_in: int
    interval: int
    device_code_hash: str


@dataclass(frozen=True, slots=True)
class PollResult:
    status: str  # PENDING | SLOW_DOWN | EXPIRED | APPROVED | DENIED
    device_token: str | None = None
    device_id: int | None = None

    @property
    def final(self) -> bool:
        return self.status in ("EXPIRED", "APPROVED", "DENIED")


async def request_codes(
    session: AsyncSession,
    config: PairingConfig,
    model: str,
    serial: str,
    capabilities: list[str],
    now: datetime,
) -> IssuedCodes:
    model = validation.text(model, "model", min_len=1, max_len=80)
    serial = validation.text(serial, "serial", min_len=1, max_len=128)
    capabilities = validation.string_list(capabilities, "capabilities", max_items=32, max_len=64)
    while True:  # a live user code must be unique; 20^8 codes make a retry rare
        user_code = codes.new_user_code()
        user_hash = codes.code_hash(codes.normalize_user_code(user_code))
        if await _pending_by_user_code(session, user_hash, now) is None:
            break
    device_code = codes.new_device_code()
    row = DevicePairing(
        device_code_hash=codes.code_hash(device_code),
        user_code_hash=user_hash,
        model=model,
        serial=serial,
        capabilities=capabilities,
        status=PairingStatus.PENDING,
        interval_s=config.interval_s,
        created_at=now,
        expires_at=now + timedelta(seconds=config.ttl_s),
    )
    session.add(row)
    await session.commit()
    return IssuedCodes(
        device_code=device_code,
        user_code=user_code,
        verification_uri=config.verification_uri,
        expires_in=config.ttl_s,
        interval=config.interval_s,
        device_code_hash=row.device_code_hash,
    )


async def poll(
    session: AsyncSession,
    codec: TokenCodec,
    config: PairingConfig,
    device_code_hash: str,
    now: datetime,
    *,
    enforce_interval: bool = True,
) -> PollResult:
    """The state of a pairing; hands out the device token exactly once."""
    row = await session.scalar(
        select(DevicePairing).where(DevicePairing.device_code_hash == device_code_hash)
    )
    if row is None:
        raise NotFound("Device code")
    if row.status == PairingStatus.CONSUMED:
        return PollResult("EXPIRED")
    if row.status == PairingStatus.DENIED:
        return PollResult("DENIED")
    if row.status == PairingStatus.APPROVED:
        return await _hand_out_token(session, codec, config, row)
    if now >= row.expires_at:
        return PollResult("EXPIRED")
    if not enforce_interval:
        return PollResult("PENDING")
    too_soon = row.last_polled_at is not None and (now - row.last_polled_at) < timedelta(
        seconds=row.interval_s - POLL_TOLERANCE_S
    )
    row.last_polled_at = now
    await session.commit()
    return PollResult("SLOW_DOWN" if too_soon else "PENDING")


async def _hand_out_token(
    session: AsyncSession, codec: TokenCodec, config: PairingConfig, row: DevicePairing
) -> PollResult:
    # Two racing polls: only the one whose update wins gets the token.
    spent = await session.execute(
        update(DevicePairing)
        .where(DevicePairing.id == row.id, DevicePairing.status == PairingStatus.APPROVED)
        .values(status=PairingStatus.CONSUMED)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        await session.rollback()
        return PollResult("EXPIRED")
    device = await session.get_one(HologramDevice, row.device_id)
    await session.commit()
    if device.revoked_at is not None:  # unpaired before it ever collected its token
        return PollResult("DENIED")
    token = codec.issue(
        "device", device.id, device.token_version, config.device_token_ttl_s, device.owner_id
    )
    return PollResult("APPROVED", device_token=token, device_id=device.id)


async def find_for_owner(
    session: AsyncSession, config: PairingConfig, viewer: Viewer, user_code: str, now: datetime
) -> DevicePairing:
    """The pending pairing a person typed the code of; wrong codes count towards a lockout."""
    await check_guess_rate(session, config, viewer.user_id, now)
    normalized = codes.normalize_user_code(user_code)
    row = (
        await _pending_by_user_code(session, codes.code_hash(normalized), now)
        if normalized
        else None
    )
    if row is None:
        session.add(PairingFailure(user_id=viewer.user_id, at=now))
        await session.commit()
        raise NotFound("Pairing code")
    return row


async def check_guess_rate(
    session: AsyncSession, config: PairingConfig, user_id: int, now: datetime
) -> None:
    since = now - timedelta(seconds=config.failure_window_s)
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(PairingFailure.at)).where(
                PairingFailure.user_id == user_id, PairingFailure.at > since
            )
        )
    ).one()
    if (count or 0) >= config.max_failures and oldest is not None:
        if oldest.tzinfo is None:  # SQLite aggregates lose the column type
            oldest = oldest.replace(tzinfo=now.tzinfo)
        retry = oldest + timedelta(seconds=config.failure_window_s) - now
        raise RateLimited(
            "Too many wrong pairing codes; try again later", max(1, int(retry.total_seconds()) + 1)
        )


async def _pending_by_user_code(
    session: AsyncSession, user_code_hash: str, now: datetime
) -> DevicePairing | None:
    return await session.scalar(
        select(DevicePairing)
        .where(
            DevicePairing.user_code_hash == user_code_hash,
            DevicePairing.status == PairingStatus.PENDING,
            DevicePairing.expires_at > now,
        )
        .limit(1)
    )


async def expires_at(session: AsyncSession, device_code_hash: str) -> datetime | None:
    value: datetime | None = await session.scalar(
        select(DevicePairing.expires_at).where(DevicePairing.device_code_hash == device_code_hash)
    )
    return value
