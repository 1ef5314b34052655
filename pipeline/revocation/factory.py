"""Pick the revocation store from the shared-state URL (``memory://`` or ``redis://``)."""

from __future__ import annotations

from pipeline.revocation.base import RevocationStore
from pipeline.revocation.memory import MemoryRevocationStore
from pipeline.shared_state import is_redis


def make_revocation_store(url: str, namespace: str = "") -> RevocationStore:
    if is_redis(url, "revocation store"):
        from pipeline.revocation.redis_store import RedisRevocationStore

        return RedisRevocationStore.from_url(url, namespace)
    return MemoryRevocationStore()
