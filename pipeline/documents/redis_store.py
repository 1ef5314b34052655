"""Registered documents in Redis, shared by every process: one key a hash, each expiring.

Registered on one process, found on all of them (the PostgreSQL + Redis test pass checks it).
Keys expire a day after their last registration, so the store holds what clients still send.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from pipeline.broadcast.redis_backend import resilient_client_options

log = logging.getLogger("holomate.documents")
TIMEOUT_S = 0.5  # on the request path; a miss costs the client one more round trip, no more
TTL_S = 24 * 3600


class RedisDocumentStore:
    def __init__(self, redis: Redis, key_prefix: str = "holomate:apq:") -> None:
        self._redis = redis
        self._prefix = key_prefix

    @classmethod
    def from_url(cls, url: str, namespace: str = "") -> RedisDocumentStore:
        client = Redis.from_url(url, **resilient_client_options(TIMEOUT_S))
        return cls(client, key_prefix=f"{namespace}holomate:apq:")

    async def get(self, sha256: str) -> str | None:
        try:
            value = await self._redis.get(self._prefix + sha256)
        except (RedisError, OSError) as e:
            log.warning("registered documents unreachable, read as a miss: %s", e)
            return None
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def put(self, sha256: str, document: str) -> None:
        try:
            await self._redis.set(self._prefix + sha256, document.encode(), ex=TTL_S)
        except (RedisError, OSError) as e:
            log.warning("registered documents unreachable, registration dropped: %s", e)

    async def aclose(self) -> None:
        await self._redis.aclose()
