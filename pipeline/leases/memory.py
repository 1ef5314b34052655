"""Leases in this process's memory: the embedded default (one process)."""

from __future__ import annotations

import time
from collections.abc import Sequence


class MemoryLeases:
    def __init__(self) -> None:
        self._pools: dict[str, dict[str, float]] = {}  # pool -> holder -> monotonic expiry

    async def acquire(self, pool: str, holder: str, limit: int, ttl_s: float) -> bool:
        now = time.monotonic()
        held = self._pools.setdefault(pool, {})
        for expired in [h for h, until in held.items() if until <= now]:
            del held[expired]
        if holder not in held and len(held) >= limit:
            return False
        held[holder] = now + ttl_s
        return True

    async def renew(self, leases: Sequence[tuple[str, str]], ttl_s: float) -> None:
        until = time.monotonic() + ttl_s
        for pool, holder in leases:
            held = self._pools.get(pool)
            if held is not None and holder in held:
                held[holder] = until

    async def release(self, pool: str, holder: str) -> None:
        held = self._pools.get(pool)
        if held is not None:
            held.pop(holder, None)
            if not held:
                del self._pools[pool]

    async def aclose(self) -> None:
        self._pools.clear()
