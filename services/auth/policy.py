"""Everything the auth services need, assembled once from settings by the app."""

from __future__ import annotations

from dataclasses import dataclass

from services.auth.cache import VerifiedTokens
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
    free_attempts: int = 5
    max_lock_s: int = 900
    # A spent refresh token presented again this soon is a second tab of the same browser racing
    # the first (browsers share localStorage between tabs with a delay): refused, not theft.
    refresh_reuse_grace_s: int = 10
