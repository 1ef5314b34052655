"""A process-wide listener on one hub channel that outlives any one bad message or outage."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import cast

from pipeline.broadcast.hub import EventHub
from pipeline.broadcast.log_base import LogEntry


async def listen_forever(
    hub: EventHub,
    channel: str,
    handle: Callable[[LogEntry], Awaitable[None]],
    ready: asyncio.Event,
    log: logging.Logger,
    what: str,
) -> None:
    """Hand every entry of ``channel`` to ``handle``, in order, until cancelled; set ``ready``
    once subscribed (or on the first failure, so a start-up waiting on it is never stuck).

    Whatever fails (a message ``handle`` cannot read, the hub's store gone) is logged under
    ``what`` and the listener subscribes again a second later: an ending or a command missed
    while it is down is lost, one that arrives after is heard.
    """
    while True:
        try:
            # ``subscribe`` is an async generator: closing it lets go of the channel.
            subscription = cast(AsyncGenerator[LogEntry, None], hub.subscribe(channel))
            async with contextlib.aclosing(subscription) as entries:
                first = asyncio.ensure_future(anext(entries))
                await asyncio.sleep(0)  # the subscription is registered once anext runs
                ready.set()
                entry = await first
                while True:
                    await handle(entry)
                    entry = await anext(entries)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - keep listening whatever one message did
            log.exception("%s listener failed; restarting", what)
            ready.set()
            await asyncio.sleep(1)
