"""Ended sessions in this process's memory: the embedded default (one process)."""

from __future__ import annotations

import time
from collections.abc import Sequence


class MemoryRevocationStore:
    def __init__(self) -> None:
        self._until: dict[str, float] = {}  # session id -> monotonic expiry
        self._next_prune = 0.0

    async def revoke(self, session_ids: Sequence[str], ttl_s: float) -> None:
        now = time.monotonic()
        self._prune(now)
        for session_id in session_ids:
            self._until[session_id] = max(self._until.get(session_id, 0.0), now + ttl_s)

    async def is_revoked(self, session_id: str) -> bool:
        until = self._until.get(session_id)
        return until is not None and until > time.monotonic()

    async def aclose(self) -> None:
        self._until.clear()

    def _prune(self, now: float) -> None:
        # At most once a minute: a logout storm stays O(1) per entry.
        if now < self._next_prune:
            return
        self._next_prune = now + 60
        for session_id in [s for s, until in self._until.items() if until <= now]:
            del self._until[session_id]
