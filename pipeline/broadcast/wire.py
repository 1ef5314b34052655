"""The broadcast message: one line of header (cursor, previous cursor), then the payload.

A plain header instead of JSON keeps the caller's payload byte-exact and avoids escaping it.
Cursors never contain spaces or newlines (every log guarantees it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pipeline.broadcast.log_base import LogEntry

_MAGIC: Final = "h1"
# Sent by a backend for each channel it re-subscribed after a reconnect: pub/sub lost whatever
# was published meanwhile, so local subscribers re-read the log.
RESYNC: Final = "h1 resync"


@dataclass(frozen=True, slots=True)
class Live:
    prev: str
    entry: LogEntry  # made once here and handed as is to every local subscriber


def encode_live(cursor: str, prev: str, payload: str) -> str:
    return f"{_MAGIC} {cursor} {prev}\n{payload}"


def decode(message: str) -> Live | None:
    """A live event, or None for anything else (a resync signal, a foreign message)."""
    header, sep, payload = message.partition("\n")
    parts = header.split(" ")
    if not sep or len(parts) != 3 or parts[0] != _MAGIC:
        return None
    return Live(prev=parts[2], entry=LogEntry(parts[1], payload))
