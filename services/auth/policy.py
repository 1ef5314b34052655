"""Everything the auth services need, assembled once from settings by the app."""

from __future__ import annotations

from dataclasses import dataclass

from services.auth.cache import VerifiedTokens
from services.auth.login_throttle import LoginThrottle
from services.auth.passwords import Passwords
from services.auth.revocations import Revocations
from services.auth.tokens import TokenCodec


@dataclass(frozen=True, slots=True)
class AuthPolicy:
    passwords: Passwords
    codec: TokenCodec
    access_ttl_s: int
    refresh_ttl_s: int
    device_ttl_s: int
    verified: VerifiedTokens
    revocations: Revocations
    # Failed logins slow down (account, IP) and IP, never the owner elsewhere; None: unlimited.
    login_throttle: LoginThrottle | None = None
    # A spent refresh token presented again this soon is a second tab of the same browser racing
    # the first (browsers share localStorage between tabs with a delay): refused, not theft.
    refresh_reuse_grace_s: int = 10
