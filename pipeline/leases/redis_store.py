"""Leases in Redis: a sorted set per pool, each holder scored with its expiry in Redis time.

Each script first drops the pool's expired holders, so a lease a dead process never released
stops counting after its ttl; the key itself expires with its newest lease. Redis's own clock
(``TIME``) decides expiry: hosts whose clocks differ agree on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from pipeline.broadcast.redis_backend import resilient_client_options
from pipeline.leases.base import LeasesUnavailable

TIMEOUT_S = 1.0  # on the path of starting a session: fail fast

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
"""
# KEYS: pool. ARGV: holder, limit, ttl ms. Returns 1 if the holder has a place.
_ACQUIRE = (
    _NOW
    + """
if not redis.call('ZSCORE', KEYS[1], ARGV[1])
   and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""
)
# KEYS: pool. ARGV: holder, ttl ms. Extends a lease still held (never revives an expired one).
_RENEW = (
    _NOW
    + """
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
)


class RedisLeases:
    def __init__(self, redis: Redis, key_prefix: str = "holomate:leases:") -> None:
        self._redis = redis
        self._prefix = key_prefix
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)

    @classmethod
    def from_url(cls, url: str, namespace: str = "") -> RedisLeases:
        client = Redis.from_url(url, **resilient_client_options(TIMEOUT_S))
        return cls(client, key_prefix=f"{namespace}holomate:leases:")

    async def acquire(self, pool: str, holder: str, limit: int, ttl_s: float) -> bool:
        try:
            taken = await self._acquire(
                keys=[self._prefix + pool], args=[holder, limit, _ms(ttl_s)]
            )
        except (RedisError, OSError) as e:
            raise LeasesUnavailable(str(e)) from e
        return bool(taken)

    async def renew(self, leases: Sequence[tuple[str, str]], ttl_s: float) -> None:
        if not leases:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for pool, holder in leases:
                    await self._renew(
                        keys=[self._prefix + pool], args=[holder, _ms(ttl_s)], client=pipe
                    )
                await pipe.execute()
        except (RedisError, OSError) as e:
            raise LeasesUnavailable(str(e)) from e

    async def release(self, pool: str, holder: str) -> None:
        try:
            await self._redis.zrem(self._prefix + pool, holder)
        except (RedisError, OSError) as e:
            raise LeasesUnavailable(str(e)) from e

    async def aclose(self) -> None:
        await self._redis.aclose()


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))
