"""What the logs whose cursors are row ids share: reading a cursor, and when to prune."""

from __future__ import annotations

import re

from pipeline.broadcast.errors import InvalidCursor
from pipeline.broadcast.log_base import LOG_START

_ID = re.compile(r"[1-9][0-9]{0,18}")
_MAX_ID = 2**63 - 1


def row_cursor_key(cursor: str) -> tuple[int, ...]:
    """The row id a cursor names (0 for ``LOG_START``); past a BIGINT no driver can bind it."""
    if cursor == LOG_START:
        return (0,)
    if _ID.fullmatch(cursor) is None or int(cursor) > _MAX_ID:
        raise InvalidCursor(cursor)
    return (int(cursor),)


class PruneSchedule:
    """Which appends also prune their channel: a channel seen for the first time at once, then
    every ``every`` appends, so each channel holds at most about max_len + every rows per
    writing process. Forgetting (when the table of channels grows large) only means an early
    prune."""

    def __init__(self, every: int, channels_kept: int = 10_000) -> None:
        self._every = every
        self._channels_kept = channels_kept
        self._since: dict[str, int] = {}

    def due(self, channel: str) -> bool:
        count = self._since.get(channel)
        if count is not None and count + 1 < self._every:
            self._since[channel] = count + 1
            return False
        if len(self._since) >= self._channels_kept:
            self._since.clear()
        self._since[channel] = 0
        return True
