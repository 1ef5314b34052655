"""Turn a bearer token into a Viewer, checking it was not revoked since it was issued.

Two records can say a token is revoked: its session in the shared revocation set (logout,
refresh-token theft) and the rows it names (the account's token version, the device). A device
token is only ever ended by its row (unpairing), so it never waits on the shared set.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.revocations import Revocations
from services.auth.tokens import TokenCodec
from services.errors import Unauthenticated
from services.identity import Viewer
from store.models import HologramDevice, User


def bearer_token(header_value: str | None) -> str | None:
    if not header_value:
        return None
    scheme, _, token = header_value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Use 'Authorization: Bearer <token>'", reason="TOKEN_INVALID")
    return token.strip()


async def authenticate(
    session: AsyncSession, codec: TokenCodec, revocations: Revocations, token: str
) -> tuple[Viewer, User | None]:
    """The viewer, and the person's row when the token is a person's (saves a later load)."""
    claims = codec.decode(token)
    if claims.kind == "access":
        await revocations.check(claims.session_id)
        user = await session.get(User, claims.subject_id)
        if user is None or user.token_version != claims.version:
            raise Unauthenticated("Token revoked", reason="TOKEN_REVOKED")
        viewer = Viewer(user_id=user.id, expires_at=claims.expires_at, session_id=claims.session_id)
        return viewer, user
    device = await session.get(HologramDevice, claims.subject_id)
    if device is None or device.revoked_at is not None or device.token_version != claims.version:
        raise Unauthenticated("Device token revoked", reason="TOKEN_REVOKED")
    viewer = Viewer(
        user_id=device.owner_id,
        expires_at=claims.expires_at,
        device_id=device.id,
        session_id=claims.session_id,
    )
    return viewer, None
