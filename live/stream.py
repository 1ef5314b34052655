"""``stream``: one declared subscription, live from its channel, until it ends.

Everything a live subscription needs beyond its declaration happens here, once for all of
them: the hub subscription (replay from ``after``, then live), the token's expiry closing the
socket (4401), erasure closing it (4401), the log's failures as the API's error codes, and the
delivery: through the WebSocket operation's outlet (rendered once per group, written directly
to sockets that keep up) or, on other transports, one event at a time through GraphQL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine
from typing import Any

from context.request import Context
from live.deliver import take_outlet
from live.feed import LiveFeed, LiveSubscription
from pipeline.broadcast.direct import DirectDelivery
from pipeline.broadcast.errors import CursorExpired, InvalidCursor, LogUnavailable
from pipeline.broadcast.log_base import LogEntry
from services.errors import BadUserInput, ServiceUnavailable
from services.errors import CursorExpired as CursorExpiredError

TOKEN_EXPIRED_CLOSE = 4401
ACCOUNT_GONE_CLOSE = 4401


async def stream(context: Context, subscription: LiveSubscription) -> AsyncGenerator[Any, None]:
    """The subscription's events; over a WebSocket this yields nothing and leaves the feed to
    the operation's outlet, which writes it before the operation completes."""
    outlet = take_outlet()
    direct = None
    if subscription.source is not None:
        entries = subscription.source
    else:
        hub = context.app.hub
        assert hub is not None
        direct = DirectDelivery() if outlet is not None else None
        entries = hub.subscribe(subscription.channel, subscription.after, direct)
    forget = None
    if subscription.track is not None:
        forget = subscription.track(
            lambda: context.close_socket(ACCOUNT_GONE_CLOSE, "Account deleted")
        )
    # One timer per subscription (not a wait_for task per event) ends it when the token
    # expires: the socket closes with 4401 and the client re-authenticates and resumes.
    viewer = subscription.viewer
    expiry = None if viewer is None else _expiry_timer(context, viewer.expires_at)

    async def close() -> None:
        if expiry is not None:
            expiry.cancel()
        if forget is not None:
            forget()
        await entries.aclose()  # type: ignore[attr-defined]

    if outlet is not None:
        outlet.take(
            LiveFeed(
                subscription.channel,
                entries,
                api_error,
                subscription.event_for,
                subscription.viewer,
                subscription.base_url,
                close,
                direct,
                subscription.shared,
            )
        )
        return
    try:
        async for entry in _entries(entries):
            context.reset_loaders()
            yield subscription.event_for(entry)
    finally:
        await close()


def api_error(error: Exception) -> Exception:
    """The hub's errors as the API's error codes; anything else as it is (masked)."""
    if isinstance(error, InvalidCursor):
        return BadUserInput("Unknown cursor", field="after")
    if isinstance(error, CursorExpired):
        return CursorExpiredError()
    if isinstance(error, LogUnavailable):  # e.g. Redis restarting: resume with `after` shortly
        return ServiceUnavailable("The replay log")
    return error


async def _entries(stream: AsyncIterator[LogEntry]) -> AsyncIterator[LogEntry]:
    try:
        async for entry in stream:
            yield entry
    except (InvalidCursor, CursorExpired, LogUnavailable) as e:
        raise api_error(e) from e


def _expiry_timer(context: Context, expires_at: float) -> asyncio.TimerHandle:
    loop = asyncio.get_running_loop()
    delay = max(0.0, expires_at - time.time())
    expired = TOKEN_EXPIRED_CLOSE, "Token expired"
    return loop.call_later(delay, lambda: _spawn(context.close_socket(*expired)))


_background: set[asyncio.Task[None]] = set()


def _spawn(coro: Coroutine[Any, Any, None]) -> None:
    task = asyncio.ensure_future(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)
