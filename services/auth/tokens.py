"""Signed JWT access and device tokens, and opaque refresh tokens stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Literal

import jwt

from services.errors import Unauthenticated

TokenKind = Literal["access", "device"]
ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    kind: TokenKind
    subject_id: int
    version: int
    expires_at: float
    user_id: int
    # The session the token belongs to: a login's refresh-token family, or the device. Ending
    # it (logout, theft, unpairing...) ends every token that carries it, on every process.
    # Empty only in access tokens minted without one (tests, older servers): the account's
    # token version still ends those.
    session_id: str


class TokenCodec:
    def __init__(self, secret: str) -> None:
        self._secret = secret

    def issue(
        self,
        kind: TokenKind,
        subject_id: int,
        version: int,
        ttl_s: int,
        user_id: int,
        session_id: str | None = None,
    ) -> str:
        now = int(time.time())
        claims: dict[str, object] = {
            "typ": kind,
            "sub": str(subject_id),
            "uid": user_id,
            "ver": version,
            "iat": now,
            "exp": now + ttl_s,
            "jti": uuid.uuid4().hex,
        }
        if session_id is not None:
            claims["sid"] = session_id
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> TokenClaims:
        try:
            data = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
            )
        except jwt.ExpiredSignatureError as e:
            raise Unauthenticated("Token expired", reason="TOKEN_EXPIRED") from e
        except jwt.PyJWTError as e:
            raise Unauthenticated("Invalid token", reason="TOKEN_INVALID") from e
        kind = data.get("typ")
        if kind not in ("access", "device"):
            raise Unauthenticated("Invalid token", reason="TOKEN_INVALID")
        try:
            subject_id = int(data["sub"])
            sid = device_session(subject_id) if kind == "device" else data.get("sid", "")
            if not isinstance(sid, str):
                raise ValueError("the session is a string")
            return TokenClaims(
                kind=kind,
                subject_id=subject_id,
                version=int(data.get("ver", 0)),
                expires_at=float(data["exp"]),
                user_id=int(data.get("uid", data["sub"])),
                session_id=sid,
            )
        except (TypeError, ValueError) as e:
            raise Unauthenticated("Invalid token", reason="TOKEN_INVALID") from e


def device_session(device_id: int) -> str:
    """A device's tokens form one session: unpairing ends it."""
    return f"device:{device_id}"


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def hash_opaque_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
