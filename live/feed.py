"""What a live subscription declares, and the feed delivery works from.

A subscription resolver checks who may listen, then declares a ``LiveSubscription`` (which
channel, from which cursor, how a logged entry becomes its GraphQL event, what ends it early)
and hands it to ``live.stream``. Over a WebSocket the transport renders each event once per
process for every subscriber that would receive the same bytes and writes it: per subscriber,
an event costs a dictionary lookup and a socket write, not a GraphQL execution and an encoding.
Elsewhere (HTTP multipart subscriptions) the same declaration yields the events one by one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pipeline.broadcast.direct import DirectDelivery
from pipeline.broadcast.log_base import LogEntry
from services.identity import Viewer

# Registers how to end this subscription's socket (an erased account); returns the undo.
Track = Callable[[Callable[[], Awaitable[None]]], Callable[[], None]]


@dataclass(frozen=True, slots=True)
class LiveSubscription:
    """One subscription, declared: the resolver has already checked that ``viewer`` may
    read ``channel``."""

    channel: str  # with ``source``: only the name its rendered events are kept under
    after: str | None  # the client's last cursor; None: from now on
    event_for: Callable[[LogEntry], Any]  # the GraphQL object of one logged entry
    # Token expiry closes the socket (4401); fields may depend on who asks. None: anyone
    # (a device pairing), nothing expires.
    viewer: Viewer | None
    base_url: str  # audio URLs are signed against it, so it is part of what is shared
    track: Track | None = None  # erasure: the account's sockets close (4401)
    # Entries the subscription reads itself (several channels merged, entries filtered or
    # looked up) instead of ``channel`` from ``after``; each is written by the socket's own
    # task (no direct path), with the error codes of the hub's.
    source: AsyncIterator[LogEntry] | None = None
    # False when no other socket can receive the same bytes (each event carries this one
    # stream's position): rendered for it alone and not kept.
    shared: bool = True


@dataclass(eq=False, slots=True)
class LiveFeed:
    channel: str
    entries: AsyncIterator[LogEntry]
    api_error: Callable[[Exception], Exception]  # what a client is told when entries fail
    event_for: Callable[[LogEntry], Any]
    viewer: Viewer | None
    base_url: str
    close: Callable[[], Awaitable[None]]  # releases the channel, timers and session tracking
    # Set up for the hub's direct path: the transport fills it in while it streams the feed.
    direct: DirectDelivery | None = None
    shared: bool = True  # see LiveSubscription.shared


@dataclass(frozen=True, slots=True)
class LiveOperation:
    """The document a WebSocket operation runs: what shapes the rendered bytes."""

    query: str
    variables: dict[str, Any]
    operation_name: str | None

    @classmethod
    def of(
        cls, query: str, variables: dict[str, Any] | None, operation_name: str | None
    ) -> LiveOperation:
        return cls(query, variables or {}, operation_name)
