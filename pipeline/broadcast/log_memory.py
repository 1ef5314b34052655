"""A per-process event log: the default for a single process and for tests.

Cursors are ``<epoch>.<seq>``: ``seq`` counts appends per channel from 1 (``<epoch>.0`` is an
empty channel's start), ``epoch`` is random per log so a cursor from before a restart is refused
(CursorExpired) instead of matching a new entry; a bare ``LOG_START`` names no log and expires.
Limit: a channel forgotten to stay under ``max_channels`` (the least recently written) begins
again from ``<epoch>.0``; an ``<epoch>.0`` cursor from before that would miss what it held.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.broadcast.errors import CursorExpired, InvalidCursor
from pipeline.broadcast.log_base import ERASED, LOG_START, Appended, LogEntry

_CURSOR = re.compile(r"([0-9a-f]{8})\.(0|[1-9][0-9]{0,18})")


@dataclass(slots=True)
class _Channel:
    entries: deque[tuple[int, str]] = field(default_factory=deque)
    last_seq: int = 0
    trimmed_through: int = 0  # highest seq dropped by trimming


class MemoryEventLog:
    def __init__(self, max_len_per_channel: int = 1000, *, max_channels: int = 10_000) -> None:
        if max_len_per_channel < 1 or max_channels < 1:
            raise ValueError("max_len_per_channel and max_channels must be positive")
        self._max_len = max_len_per_channel
        self._max_channels = max_channels
        self._epoch = secrets.token_hex(4)
        # Least recently appended first, so forgetting idle channels bounds memory too.
        self._channels: OrderedDict[str, _Channel] = OrderedDict()

    async def append(self, channel: str, payload: str) -> Appended:
        state = self._channels.get(channel)
        if state is None:
            state = self._channels[channel] = _Channel()
            if len(self._channels) > self._max_channels:
                self._channels.popitem(last=False)
        else:
            self._channels.move_to_end(channel)
        prev = self._cursor(state.last_seq)
        state.last_seq += 1
        state.entries.append((state.last_seq, payload))
        if len(state.entries) > self._max_len:
            state.trimmed_through = state.entries.popleft()[0]
        return Appended(cursor=self._cursor(state.last_seq), prev=prev)

    async def read_after(self, channel: str, after: str, limit: int) -> list[LogEntry]:
        seq = self._seq(after)
        state = self._channels.get(channel)
        if seq < 0:
            raise CursorExpired(channel, after)
        if state is None:
            if seq:
                raise CursorExpired(channel, after)
            return []
        if seq > state.last_seq or seq < state.trimmed_through:
            raise CursorExpired(channel, after)
        first = state.entries[0][0] if state.entries else state.last_seq + 1
        start = max(seq + 1 - first, 0)
        return [
            LogEntry(self._cursor(s), payload)
            for s, payload in _islice(state.entries, start, start + limit)
        ]

    async def tail(self, channel: str) -> str:
        state = self._channels.get(channel)
        return self._cursor(state.last_seq if state else 0)

    def cursor_key(self, cursor: str) -> tuple[int, ...]:
        if cursor == LOG_START:
            return (0,)
        match = _CURSOR.fullmatch(cursor)
        if match is None:
            raise InvalidCursor(cursor)
        return (int(match.group(2)),)

    async def erase(self, channels: Sequence[str], scrub: Sequence[str], marker: str) -> None:
        for channel in channels:
            self._channels.pop(channel, None)
        for channel in scrub:
            state = self._channels.get(channel)
            if state is not None:
                state.entries = deque(
                    (seq, ERASED if marker in payload else payload)
                    for seq, payload in state.entries
                )

    async def aclose(self) -> None:
        return None

    def _cursor(self, seq: int) -> str:
        return f"{self._epoch}.{seq}"

    def _seq(self, cursor: str) -> int:
        """The sequence number; -1 for a cursor of another epoch (a previous process) or none."""
        if cursor == LOG_START:
            return -1
        match = _CURSOR.fullmatch(cursor)
        if match is None:
            raise InvalidCursor(cursor)
        if match.group(1) != self._epoch:
            return -1
        return int(match.group(2))


def _islice(entries: deque[tuple[int, str]], start: int, stop: int) -> list[tuple[int, str]]:
    return [entries[i] for i in range(start, min(stop, len(entries)))]
