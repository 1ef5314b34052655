"""A short-lived, bounded memo of verified tokens, so hot clients skip the revocation checks.

An ended session is forgotten here at once in the process that ended it and, through the hub,
in every other process a moment later; ``ttl_s`` (1 s by default) bounds what is left if that
message is lost (the access token itself lives minutes; this window is a second).
"""

from __future__ import annotations

import time
from collections import OrderedDict

from services.identity import Viewer


class VerifiedTokens:
    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Viewer]] = OrderedDict()

    def get(self, token: str) -> Viewer | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        valid_until, viewer = entry
        now = time.time()
        if now >= valid_until or now >= viewer.expires_at:
            del self._entries[token]
            return None
        return viewer

    def put(self, token: str, viewer: Viewer) -> None:
        if self.ttl_s <= 0:
            return
        self._entries[token] = (time.time() + self.ttl_s, viewer)
        self._entries.move_to_end(token)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget_user(self, user_id: int) -> None:
        for token in [t for t, (_, v) in self._entries.items() if v.user_id == user_id]:
            del self._entries[token]

    def forget_sessions(self, session_ids: set[str]) -> None:
        for token in [t for t, (_, v) in self._entries.items() if v.session_id in session_ids]:
            del self._entries[token]

    def forget_device(self, device_id: int) -> None:
        for token in [t for t, (_, v) in self._entries.items() if v.device_id == device_id]:
            del self._entries[token]
