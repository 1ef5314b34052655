"""Counted leases shared by every process: at most ``limit`` holders in a pool at once.

A lease expires unless renewed, so the places of a process that died free themselves (after at
most ``ttl_s``) instead of staying counted forever; a holder that ends releases its place at
once. Voice sessions use one pool per person (services/voice_sessions/registry.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class LeasesUnavailable(Exception):
    """The shared store could not be reached (Redis down): the caller decides what to allow."""


class Leases(Protocol):
    async def acquire(self, pool: str, holder: str, limit: int, ttl_s: float) -> bool:
        """Take a place in ``pool`` for ``ttl_s``; False if ``limit`` unexpired leases hold it."""

    async def renew(self, leases: Sequence[tuple[str, str]], ttl_s: float) -> None:
        """Extend each held ``(pool, holder)`` lease to ``ttl_s`` from now."""

    async def release(self, pool: str, holder: str) -> None: ...

    async def aclose(self) -> None: ...
