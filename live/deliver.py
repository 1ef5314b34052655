"""Writing a feed to one WebSocket operation: rendered once per group, framed, written.

The WebSocket handlers (``api.ws_handlers``) open an ``Outlet`` for each operation they run, in
the operation's own task (``open_outlet``). A live subscription's resolver, running in that
task, takes it (``take_outlet``), leaves its feed there and ends its stream empty: Strawberry's
execution state for the operation (its stream, the executor, the extensions) is let go, and
~10 KiB per idle subscriber with it (bench.fanout, N=1000). The handler then writes the feed
(``Outlet.run``) before the operation's ``complete``. The messages on the wire are exactly
those Strawberry would send.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any

from context.request import Context
from live.eager_send import send_eagerly
from live.feed import LiveFeed, LiveOperation
from live.render import LiveRenderer
from pipeline.broadcast.log_base import LogEntry

Send = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]
# Raised by the server's send for a client that left (uvicorn says OSError, Starlette its own).
Gone = Callable[[BaseException], bool]

_OUTLET: ContextVar[Outlet | None] = ContextVar("holomate_live_outlet", default=None)


class SocketGone(Exception):
    """The client left while its events were being written."""


class Outlet:
    """One WebSocket operation's way out: its document, its framing, the server's send."""

    __slots__ = (
        "_released",
        "_started",
        "context",
        "feed",
        "gone",
        "operation",
        "prefix",
        "renderer",
        "send",
    )

    def __init__(
        self,
        renderer: LiveRenderer,
        operation: LiveOperation,
        context: Context,
        send: Send,
        prefix: str,
        gone: Gone,
    ) -> None:
        self.renderer = renderer
        self.operation = operation
        self.context = context
        self.send = send
        self.prefix = prefix  # the message up to its payload: '{"id":"1","type":"next","payload":'
        self.gone = gone
        self.feed: LiveFeed | None = None
        self._started = self._released = False

    def take(self, feed: LiveFeed) -> None:
        """The subscription's feed, to be written once its stream has ended."""
        if self.feed is not None:
            raise RuntimeError("an operation streams one feed")
        self.feed = feed

    @property
    def pending(self) -> bool:
        """A feed is waiting to be written: the operation is not complete yet."""
        return self.feed is not None and not self._started

    async def run(self) -> None:
        """Write the feed, then release it. Raises ``SocketGone`` when the client left."""
        assert self.feed is not None
        self._started = True
        try:
            await self.deliver(self.feed)
        finally:
            await self.release()

    async def release(self) -> None:
        """Close the feed, once, however the operation ended (one cancelled between the
        hand-off and its first event must not leave the feed's expiry timer behind)."""
        if self.feed is not None and not self._released:
            self._released = True
            await self.feed.close()

    async def deliver(self, feed: LiveFeed) -> None:
        """Write the feed until it ends; a failure ends it with one errors payload (masked
        unless it carries a code), as Strawberry reports a failing stream. Raises
        ``SocketGone`` when the client left.

        Live events that directly follow are written by the channel's pump itself
        (``_Direct``); this loop writes the rest: the replay, catch-ups after a gap, and
        anything the direct path declined. It calls the server's send itself, not through a
        helper, for the same reason: it runs once per event per subscriber.
        """
        renderer, operation, prefix, send = self.renderer, self.operation, self.prefix, self.send
        key = renderer.key(operation, feed)
        direct = _Direct(renderer, key, feed.channel, prefix, send)
        if feed.direct is not None:
            feed.direct.prepare = lambda entry: renderer.prepare(key, operation, feed, entry)
            feed.direct.deliver = direct.deliver
            feed.direct.group = key  # one rendering serves every socket with this key
        try:
            try:
                async for entry in feed.entries:
                    payload = renderer.payload(key, operation, feed, entry)
                    if not isinstance(payload, str):
                        payload = await payload
                    try:
                        if direct.writing is not None:  # a direct write the client is slow to take
                            await direct.writing
                            direct.writing = None
                        await send({"type": "websocket.send", "text": prefix + payload + "}"})
                    except Exception as e:
                        if self.gone(e):
                            raise SocketGone from e
                        raise
            except SocketGone:
                raise
            except Exception as e:  # noqa: BLE001 - reported to the client, logged if unexpected
                text = prefix + renderer.error_payload(feed.api_error(e), self.context) + "}"
                try:
                    await send({"type": "websocket.send", "text": text})
                except Exception as gone:
                    if self.gone(gone):
                        raise SocketGone from gone
                    raise
        except asyncio.CancelledError:
            # The client ended the operation: a direct write still waiting is dropped. (Ending
            # otherwise, it goes out before whatever is sent next: a socket's waiting writes
            # resume in the order they started.)
            if direct.writing is not None:
                direct.writing.cancel()
            raise
        finally:
            if feed.direct is not None:
                feed.direct.prepare = feed.direct.deliver = None


class _Direct:
    """One socket's direct path: a rendered payload written from inside the pump."""

    __slots__ = ("channel", "key", "prefix", "renderer", "send", "writing")

    def __init__(self, renderer: LiveRenderer, key: int, channel: str, prefix: str, send: Send):
        self.renderer = renderer
        self.key = key
        self.channel = channel
        self.prefix = prefix
        self.send = send
        self.writing: asyncio.Task[None] | None = None  # a write waiting for a slow client

    def deliver(self, entry: LogEntry) -> bool:
        writing = self.writing
        if writing is not None:
            if not writing.done():
                return False  # queued behind it, for the consumer
            self.writing = None
            if writing.cancelled() or writing.exception() is not None:
                return False  # the consumer's own write will meet the same failure
        text = self.renderer.cached(self.key, self.channel, entry.cursor)
        if text is None:
            return False
        message = {"type": "websocket.send", "text": self.prefix + text + "}"}
        try:
            self.writing = send_eagerly(self.send(message))
        except Exception:  # noqa: BLE001 - gone: the consumer's write raises it properly
            return False
        self.renderer.deliveries += 1
        if self.writing is not None:
            self.renderer.writes_waited += 1
        return True


def open_outlet(outlet: Outlet) -> None:
    """Offer ``outlet`` to the subscription that runs next in this task (an operation's)."""
    _OUTLET.set(outlet)


def take_outlet() -> Outlet | None:
    """The outlet of the operation running in this task, once: tasks started from here on
    (a channel's pump) do not carry it along."""
    outlet = _OUTLET.get()
    if outlet is not None:
        _OUTLET.set(None)
    return outlet
