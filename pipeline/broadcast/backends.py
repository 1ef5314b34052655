"""Map a broadcast URL to a ``broadcaster.Broadcast``: Redis gets our backend, memory theirs."""

from __future__ import annotations

from urllib.parse import urlparse

from broadcaster import Broadcast, BroadcastBackend


def create_broadcast(target: str | BroadcastBackend) -> Broadcast:
    if isinstance(target, BroadcastBackend):
        return Broadcast(backend=target)
    scheme = urlparse(target).scheme
    if scheme in ("redis", "rediss", "unix"):
        from pipeline.broadcast.redis_backend import RedisPubSubBackend

        return Broadcast(backend=RedisPubSubBackend(target))
    if scheme == "memory":
        return Broadcast(target)
    # broadcaster's other backends neither confirm subscriptions nor reconnect.
    raise ValueError(f"unsupported broadcast URL {target!r}: use memory:// or redis://host:port/db")
