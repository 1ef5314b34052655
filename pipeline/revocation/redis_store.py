"""Ended sessions in Redis: one key per session with its own expiry (``SET ... EX``).

Every process reads the same keys, so a logout on one process is refused on all of them. Any
Redis failure is ``RevocationsUnavailable``: the caller refuses the request rather than
letting a possibly revoked token in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from pipeline.broadcast.redis_backend import resilient_client_options
from pipeline.revocation.base import RevocationsUnavailable

# A check sits on the request path: fail fast rather than hold every request for seconds.
CHECK_TIMEOUT_S = 1.0


class RedisRevocationStore:
    def __init__(self, redis: Redis, key_prefix: str = "holomate:revoked:") -> None:
        self._redis = redis
        self._prefix = key_prefix

    @classmethod
    def from_url(cls, url: str, namespace: str = "") -> RedisRevocationStore:
        client = Redis.from_url(url, **resilient_client_options(CHECK_TIMEOUT_S))
        return cls(client, key_prefix=f"{namespace}holomate:revoked:")

    async def revoke(self, session_ids: Sequence[str], ttl_s: float) -> None:
        if not session_ids:
            return
        seconds = max(1, math.ceil(ttl_s))
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id in session_ids:
                    pipe.set(self._prefix + session_id, b"1", ex=seconds)
                await pipe.execute()
        except (RedisError, OSError) as e:
            raise RevocationsUnavailable(str(e)) from e

    async def is_revoked(self, session_id: str) -> bool:
        try:
            return bool(await self._redis.exists(self._prefix + session_id))
        except (RedisError, OSError) as e:
            raise RevocationsUnavailable(str(e)) from e

    async def aclose(self) -> None:
        await self._redis.aclose()
