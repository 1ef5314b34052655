"""Errors a publish or a subscription can hit, one small tree.

    BroadcastError
    ├── InvalidCursor         not a cursor of this log                    (not retryable)
    ├── CursorExpired         the log no longer holds what follows it     (not retryable:
    │                         reload state, subscribe again without a cursor)
    ├── LogUnavailable        the event log cannot be reached             (retryable)
    ├── BroadcastUnavailable  the broadcast backend cannot be reached     (retryable)
    └── HubClosed             the hub is stopping                         (retryable: reconnect
                              with the last cursor, possibly to another process)

``code`` is stable so the API can hand it to clients as ``extensions.code``.
"""

from __future__ import annotations


class BroadcastError(Exception):
    code = "BROADCAST_ERROR"
    retryable = False


class InvalidCursor(BroadcastError):
    code = "CURSOR_INVALID"

    def __init__(self, cursor: str) -> None:
        super().__init__(f"not a cursor: {cursor!r}")
        self.cursor = cursor


class CursorExpired(BroadcastError):
    code = "CURSOR_EXPIRED"

    def __init__(self, channel: str, cursor: str) -> None:
        super().__init__(
            f"events after {cursor!r} on {channel!r} are no longer kept; reload and resubscribe"
        )
        self.channel = channel
        self.cursor = cursor


class LogUnavailable(BroadcastError):
    code = "EVENT_LOG_UNAVAILABLE"
    retryable = True


class BroadcastUnavailable(BroadcastError):
    code = "BROADCAST_UNAVAILABLE"
    retryable = True


class HubClosed(BroadcastError):
    code = "HUB_CLOSED"
    retryable = True

    def __init__(self) -> None:
        super().__init__("the event hub is stopping; resubscribe with the last cursor")
