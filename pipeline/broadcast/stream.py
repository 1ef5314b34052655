"""The resumable stream of one subscriber: log replay, then live events, with no gap or repeat.

Invariant: ``last`` is the cursor of the last entry yielded. A live event is yielded only if its
``prev`` is ``last``: it directly follows. Anything at or before ``last`` is a duplicate and is
skipped; anything else (a broadcast lost, reordered, or dropped for a slow consumer) sends us to
the log for everything after ``last``, which is the source of truth.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from pipeline.broadcast.cancellation import raise_if_cancel_swallowed
from pipeline.broadcast.errors import HubClosed, LogUnavailable
from pipeline.broadcast.log_base import EventLog, LogEntry
from pipeline.broadcast.subscriber import LocalSubscriber


async def resume(
    log: EventLog, channel: str, subscriber: LocalSubscriber, last: str, page_size: int
) -> AsyncIterator[LogEntry]:
    """Yield entries after ``last``; the subscriber must already receive live events."""
    key = log.cursor_key
    need_log = True  # the initial replay
    while True:
        if subscriber.closed:
            raise HubClosed()
        if need_log or subscriber.lagged:
            need_log = subscriber.lagged = False
            subscriber.discard_queued()
            while True:
                try:
                    page = await log.read_after(channel, last, page_size)
                except LogUnavailable:
                    if subscriber.closed:  # the hub closed the log under us: say why
                        raise HubClosed() from None
                    raise
                raise_if_cancel_swallowed()
                for entry in page:
                    last = entry.cursor
                    yield entry
                    if subscriber.closed:
                        raise HubClosed()
                if len(page) < page_size:
                    break
            continue
        item = await subscriber.get()
        if item is None or key(item.cursor) <= key(last):
            continue
        if key(item.prev) == key(last):
            last = item.cursor
            yield LogEntry(item.cursor, item.payload)
        else:
            need_log = True
