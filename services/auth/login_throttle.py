"""Failed logins slow down the (account, IP) pair and the IP; they never lock the owner out.

- (account, IP): a few failures, then that pair waits; the owner at another IP is untouched.
- IP, across accounts: one address trying many accounts (credential stuffing).
- Account, from every IP: a generous budget against guessing from many addresses. Once it is
  spent, only IPs the account was created, logged in or refreshed its session from within
  ``known_ip_ttl_s`` may still try: the owner at home gets in while the guessers wait.

Budgets are checked before the password is (a refused attempt costs no hashing and tells
nothing) and spent only by failures. Keys hold a hash of the email, never the address, and an
unknown email is counted like a known one, so refusals never tell whether an account exists.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pipeline.ratelimit.base import RateLimiter, Verdict
from services.errors import RateLimited


@dataclass(frozen=True, slots=True)
class LoginRules:
    failures_account_ip: str = ""
    failures_ip: str = ""
    failures_account: str = ""
    known_ip_ttl_s: int = 30 * 24 * 3600


class LoginThrottle:
    def __init__(self, limiter: RateLimiter, rules: LoginRules) -> None:
        self.limiter = limiter
        self.rules = rules

    async def admit(self, email: str, ip: str) -> None:
        """Raise RATE_LIMITED when this client may not try a password for ``email`` now."""
        account = _account_key(email)
        rules, peek = self.rules, self.limiter.peek
        _raise_if_refused(await peek(rules.failures_account_ip, "login-fail", account, ip))
        _raise_if_refused(await peek(rules.failures_ip, "login-fail-ip", ip))
        verdict = await peek(rules.failures_account, "login-fail-account", account)
        if not verdict.allowed and not await self.limiter.recalls("login-known", account, ip):
            _raise_if_refused(verdict)

    async def failed(self, email: str, ip: str) -> None:
        account = _account_key(email)
        rules, hit = self.rules, self.limiter.hit
        await hit(rules.failures_account_ip, "login-fail", account, ip)
        await hit(rules.failures_ip, "login-fail-ip", ip)
        await hit(rules.failures_account, "login-fail-account", account)

    async def succeeded(self, email: str, ip: str) -> None:
        await self.limiter.remember(
            self.rules.known_ip_ttl_s, "login-known", _account_key(email), ip
        )


def _raise_if_refused(verdict: Verdict) -> None:
    if not verdict.allowed:
        raise RateLimited(
            "Too many failed logins; try again later", retry_after_s=verdict.retry_after_s
        )


def _account_key(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]
