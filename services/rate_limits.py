"""The named rate limits a client spends, and RATE_LIMITED (with retryAfter) when one runs out.

Each rule is a rate in the ``limits`` notation, from settings; the key says whose budget it is
(a client IP, an account, a socket). Failed logins have budgets of their own
(``services.auth.login_throttle``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.ratelimit.base import ALLOWED, RateLimiter, Verdict
from services.errors import RateLimited

Rule = Literal[
    "ip",
    "account",
    "login",
    "register",
    "request_device_pairing",
    "poll_device_pairing",
    "refresh_token",
    "ws_connect",
    "ws_operations",
    "ws_voice_chunks",
]


@dataclass(frozen=True, slots=True)
class RateRules:
    ip: str = ""  # every HTTP request, per client IP
    account: str = ""  # every HTTP request with a valid token, per account
    login: str = ""  # the tighter ones below are per client IP
    register: str = ""
    request_device_pairing: str = ""
    poll_device_pairing: str = ""
    refresh_token: str = ""
    ws_connect: str = ""
    ws_operations: str = ""  # per socket
    ws_voice_chunks: str = ""  # per socket: sendVoiceChunk, instead of ws_operations


class Throttle:
    def __init__(self, limiter: RateLimiter, rules: RateRules) -> None:
        self.limiter = limiter
        self.rules = rules

    async def check(self, rule: Rule, *key: str) -> Verdict:
        rate: str = getattr(self.rules, rule)
        if not rate:
            return ALLOWED
        return await self.limiter.hit(rate, rule, *key)

    async def spend(self, rule: Rule, *key: str) -> None:
        """Spend one unit of ``rule`` for ``key``, or raise RATE_LIMITED."""
        verdict = await self.check(rule, *key)
        if not verdict.allowed:
            raise refused(verdict)


def refused(verdict: Verdict) -> RateLimited:
    seconds = verdict.retry_after_s
    return RateLimited(f"Too many requests; try again in {seconds} s", retry_after_s=seconds)
