"""Rate limits behind one small interface: this process's memory, or Redis shared by every process.

A rate is written in the ``limits`` notation: ``"10/minute"``, several joined with ``;``
(``"20/second;600/minute"``), ``""`` for none. A key is a few strings (what is limited, the client
IP, an account...). ``hit`` spends one unit of every rate under the key, or refuses with the whole
seconds until one frees up; ``peek`` answers the same without spending, for budgets spent only by
what went wrong (failed logins are counted after the password check, but checked before it).
``remember``/``recalls`` keep a marker for a while (an IP an account logged in from).

When the shared store is unreachable every check answers allowed (fail open) and a warning is
logged: a Redis outage must not take the whole API down with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after_s: int = 0  # whole seconds, at least 1 when refused


ALLOWED = Verdict(True)


class RateLimiter(Protocol):
    async def hit(self, rate: str, *key: str) -> Verdict: ...

    async def peek(self, rate: str, *key: str) -> Verdict: ...

    async def remember(self, ttl_s: int, *key: str) -> None: ...

    async def recalls(self, *key: str) -> bool: ...

    async def aclose(self) -> None: ...
