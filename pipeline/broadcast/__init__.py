"""Fan-out of conversation events to every screen and hologram, across server processes.

``broadcaster`` carries live events between processes (memory or Redis pub/sub); an ``EventLog``
(memory, Redis Streams or SQL) makes them resumable: publish appends first, subscribers replay
from a cursor and re-read whatever live delivery lost. A leaf package.
"""

from pipeline.broadcast.errors import (
    BroadcastError,
    BroadcastUnavailable,
    CursorExpired,
    HubClosed,
    InvalidCursor,
    LogUnavailable,
)
from pipeline.broadcast.factory import make_hub
from pipeline.broadcast.hub import EventHub, HubStats
from pipeline.broadcast.log_base import ERASED, LOG_START, Appended, EventLog, LogEntry
from pipeline.broadcast.log_memory import MemoryEventLog

__all__ = [
    "ERASED",
    "LOG_START",
    "Appended",
    "BroadcastError",
    "BroadcastUnavailable",
    "CursorExpired",
    "EventHub",
    "EventLog",
    "HubClosed",
    "HubStats",
    "InvalidCursor",
    "LogEntry",
    "LogUnavailable",
    "MemoryEventLog",
    "make_hub",
]
