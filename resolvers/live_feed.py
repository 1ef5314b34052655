"""The hand-off between a subscription resolver and the WebSocket transport.

A resolver that streams one log channel to many sockets (``conversationEvents``) checks its
caller, then gives the transport a ``LiveFeed`` instead of yielding events one by one through
GraphQL execution. The transport renders each event once per process for every subscriber that
would receive the same bytes (``api.live_render``) and writes them: per subscriber, an event
costs a dictionary lookup and a socket write, not a GraphQL execution and a JSON encoding.

Transports that do not offer the hand-off (HTTP multipart subscriptions) pass no
``LiveOperation`` root value and get the plain async generator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pipeline.broadcast.direct import DirectDelivery
from pipeline.broadcast.log_base import LogEntry
from services.identity import Viewer


@dataclass(eq=False, slots=True)
class LiveFeed:
    channel: str
    entries: AsyncIterator[LogEntry]
    api_error: Callable[[Exception], Exception]  # what a client is told when entries fail
    event_for: Callable[[LogEntry], Any]  # the GraphQL object of one logged entry
    viewer: Viewer
    base_url: str  # audio URLs are signed against it, so it is part of what is shared
    close: Callable[[], Awaitable[None]]  # releases the channel, timers and session tracking
    # Set up for the hub's direct path: the transport fills it in while it streams the feed.
    direct: DirectDelivery | None = None


class LiveOperation:
    """The root value of one WebSocket operation: where a resolver leaves its feed."""

    __slots__ = ("_released", "feed", "operation_name", "query", "variables")

    def __init__(
        self, query: str, variables: dict[str, Any] | None, operation_name: str | None
    ) -> None:
        self.query = query
        self.variables = variables or {}
        self.operation_name = operation_name
        self.feed: LiveFeed | None = None
        self._released = False

    def take(self, feed: LiveFeed) -> None:
        if self.feed is not None:
            raise RuntimeError("an operation streams one feed")
        self.feed = feed

    async def release(self) -> None:
        """Close the feed, once, however the operation ended (an operation cancelled between
        the hand-off and its first event must not leave the feed's expiry timer behind)."""
        if self.feed is not None and not self._released:
            self._released = True
            await self.feed.close()
