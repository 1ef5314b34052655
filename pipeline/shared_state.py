"""Which store a shared-state URL names: Redis (shared by every process) or this process's
memory (the embedded default). Anything else is a mistake in the settings, refused at start."""

from __future__ import annotations

from urllib.parse import urlparse


def is_redis(url: str, what: str) -> bool:
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        return True
    if scheme == "memory":
        return False
    raise ValueError(f"no {what} for {url!r}: use memory:// or redis://")
