"""The ``limits`` library's sliding-window counters, in memory or in Redis (through redis-py).

The sliding window counter keeps two counters per key and weighs the previous window by how much
of it is still inside the last period: no burst of twice the rate at a window edge (as fixed
windows allow) at the cost of one counter per window (a moving window keeps every hit).
"""

from __future__ import annotations

import logging
import math
import time
from functools import lru_cache

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.storage.redis.redispy import RedispyBridge
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.exceptions import RedisError

from pipeline.ratelimit.base import ALLOWED, Verdict

log = logging.getLogger("holomate.ratelimit")

# A Redis that stopped answering costs each request at most this long, then is skipped for
# OUTAGE_SKIP_S (requests are let through meanwhile) before it is tried again.
REDIS_TIMEOUT_S = 0.5
OUTAGE_SKIP_S = 1.0
WARN_EVERY_S = 30.0
SWEEP_EVERY_S = 1.0
_UNREACHABLE = (StorageError, RedisError, OSError, TimeoutError)


class SweptMemoryStorage(MemoryStorage):
    """limits' memory storage, sweeping expired keys at most once per ``SWEEP_EVERY_S``.

    Upstream starts a sweep of every key after each increment, so in a server (the loop runs
    the sweep between requests) a hit cost 35-44 ms with 20,000 clients counted; 0.1-0.2 ms
    with this (one event-loop turn per hit, loaded 2-core machine). Expiry stays exact (every
    read drops an expired counter); the sweep only frees memory.
    """

    _next_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:  # the private hook incr/decr call
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY_S
            await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]


@lru_cache(maxsize=256)
def parse_rate(rate: str) -> tuple[RateLimitItem, ...]:
    """``"20/second;600/minute"`` as ``limits`` items; ``""`` is no limit. Raises ValueError."""
    return tuple(parse_many(rate)) if rate.strip() else ()


class LimitsRateLimiter:
    def __init__(self, url: str = "memory://", namespace: str = "") -> None:
        self.shared = url.startswith(("redis://", "rediss://"))
        self._storage: Storage
        if self.shared:
            self._storage = RedisStorage(
                "async+" + url,
                implementation="redispy",
                wrap_exceptions=True,
                key_prefix=f"{namespace}holomate:limits",
                socket_timeout=REDIS_TIMEOUT_S,
                socket_connect_timeout=REDIS_TIMEOUT_S,
            )
        else:
            self._storage = SweptMemoryStorage()
        self._limiter = SlidingWindowCounterRateLimiter(self._storage)
        self._skip_until = 0.0
        self._warned_at = -WARN_EVERY_S
        self.outages = 0  # checks let through because the store was unreachable

    async def hit(self, rate: str, *key: str) -> Verdict:
        return await self._check(rate, key, spend=True)

    async def peek(self, rate: str, *key: str) -> Verdict:
        return await self._check(rate, key, spend=False)

    async def _check(self, rate: str, key: tuple[str, ...], spend: bool) -> Verdict:
        items = parse_rate(rate)
        if not items or self._skipping():
            return ALLOWED
        try:
            for item in items:
                ok = await (self._limiter.hit if spend else self._limiter.test)(item, *key)
                if not ok:
                    stats = await self._limiter.get_window_stats(item, *key)
                    return Verdict(False, max(1, math.ceil(stats.reset_time - time.time())))
        except _UNREACHABLE as e:
            self._unreachable(e)
        return ALLOWED

    async def remember(self, ttl_s: int, *key: str) -> None:
        if self._skipping():
            return
        marker = _marker(key)
        try:
            await self._storage.clear(marker)  # a new mark lasts ttl_s from now
            await self._storage.incr(marker, ttl_s)
        except _UNREACHABLE as e:
            self._unreachable(e)

    async def recalls(self, *key: str) -> bool:
        if self._skipping():
            return False
        try:
            return await self._storage.get(_marker(key)) > 0
        except _UNREACHABLE as e:
            self._unreachable(e)
            return False

    async def aclose(self) -> None:
        if isinstance(self._storage, MemoryStorage):
            if self._storage.timer is not None:
                self._storage.timer.cancel()
        elif isinstance(self._storage, RedisStorage):
            bridge = self._storage.bridge
            if isinstance(bridge, RedispyBridge):
                await bridge.storage.aclose()

    def _skipping(self) -> bool:
        return self._skip_until > time.monotonic()

    def _unreachable(self, error: BaseException) -> None:
        now = time.monotonic()
        self.outages += 1
        self._skip_until = now + OUTAGE_SKIP_S
        if now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning("rate limits not enforced: shared store unreachable (%s)", error)


def _marker(key: tuple[str, ...]) -> str:
    return "mark/" + "/".join(key)
