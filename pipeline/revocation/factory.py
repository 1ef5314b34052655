"""Pick the revocation store from the shared-state URL (``memory://`` or ``redis://``)."""

from __future__ import annotations

from urllib.parse import urlparse

from pipeline.revocation.base import RevocationStore
from pipeline.revocation.memory import MemoryRevocationStore


def make_revocation_store(url: str, namespace: str = "") -> RevocationStore:
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        from pipeline.revocation.redis_store import RedisRevocationStore

        return RedisRevocationStore.from_url(url, namespace)
    if scheme == "memory":
        return MemoryRevocationStore()
    raise ValueError(f"no revocation store for {url!r}: use memory:// or redis://")
