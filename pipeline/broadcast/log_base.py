"""The durable, bounded, ordered log per channel that makes delivery resumable.

Redis pub/sub is at-most-once, so every event is appended here first; a subscriber that missed
live events (slow consumer, reconnect, another process) re-reads them from the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

# The cursor before a channel's first entry. ``tail()`` returns it for an empty channel, so a
# client can always be handed a cursor before it subscribes.
LOG_START: Final = "0"

# The payload of an erased entry. Erasure redacts in place rather than deleting: the entry keeps
# its cursor, so a client resuming from it (or from before it) reads on instead of expiring.
# Readers skip it (EventHub.subscribe); nothing is ever published with an empty payload.
ERASED: Final = ""


@dataclass(frozen=True, slots=True)
class LogEntry:
    cursor: str
    payload: str


@dataclass(frozen=True, slots=True)
class Appended:
    """Where an append landed, and the entry before it (``LOG_START`` if none).

    ``prev`` lets a subscriber prove that a live event directly follows the last one it
    yielded; when it does not (lost or reordered broadcast), it reads the gap from the log.
    """

    cursor: str
    prev: str


class EventLog(Protocol):
    async def append(self, channel: str, payload: str) -> Appended:
        """Append atomically with respect to other appends on ``channel``."""
        ...

    async def read_after(self, channel: str, after: str, limit: int) -> list[LogEntry]:
        """Entries strictly after ``after``, oldest first, at most ``limit``.

        Raises ``CursorExpired`` if entries after ``after`` may have been trimmed or lost,
        ``InvalidCursor`` if ``after`` is not a cursor of this log.
        """
        ...

    async def tail(self, channel: str) -> str:
        """The newest cursor of ``channel``, or ``LOG_START`` if it is empty."""
        ...

    def cursor_key(self, cursor: str) -> tuple[int, ...]:
        """A sort key: cursors of one channel compare in append order. Raises ``InvalidCursor``."""
        ...

    async def erase(self, channels: Sequence[str], scrub: Sequence[str], marker: str) -> None:
        """Forget ``channels`` entirely (their cursors expire) and, in the ``scrub`` channels,
        replace the payload of every entry containing ``marker`` (an erased person's words) with
        ``ERASED``: its cursor and the chain of ``prev`` stay, so resuming there still works."""
        ...

    async def aclose(self) -> None:
        """Release what the log owns (not clients or engines handed to it)."""
        ...
