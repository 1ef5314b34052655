"""make_hub: pick the broadcast and the default log from one URL."""

from __future__ import annotations

from urllib.parse import urlparse

from pipeline.broadcast.hub import EventHub
from pipeline.broadcast.log_base import EventLog
from pipeline.broadcast.log_memory import MemoryEventLog


def make_hub(
    broadcast_url: str,
    *,
    log: EventLog | None = None,
    max_len: int = 1000,
    queue_size: int = 1000,
    namespace: str = "",
    append_wait_s: float = 0.0,
) -> EventHub:
    """``memory://`` → in-process broadcast and MemoryEventLog; ``redis://host:port/db`` → Redis
    pub/sub and RedisStreamEventLog on the same Redis. Pass ``log`` (e.g. a SqlEventLog) to keep
    replay across restarts; the hub then closes nothing of it but what the log itself owns.
    """
    if log is None:
        scheme = urlparse(broadcast_url).scheme
        if scheme in ("redis", "rediss", "unix"):
            from pipeline.broadcast.log_redis import RedisStreamEventLog

            log = RedisStreamEventLog.from_url(broadcast_url, max_len)
        elif scheme == "memory":
            log = MemoryEventLog(max_len)
        else:
            raise ValueError(f"no default event log for {broadcast_url!r}; pass log=")
    return EventHub(
        broadcast_url,
        log,
        queue_size=queue_size,
        namespace=namespace,
        append_wait_s=append_wait_s,
    )
