"""Pick the lease store from the shared-state URL (``memory://`` or ``redis://``)."""

from __future__ import annotations

from pipeline.leases.base import Leases
from pipeline.leases.memory import MemoryLeases
from pipeline.shared_state import is_redis


def make_leases(url: str, namespace: str = "") -> Leases:
    if is_redis(url, "lease store"):
        from pipeline.leases.redis_store import RedisLeases

        return RedisLeases.from_url(url, namespace)
    return MemoryLeases()
