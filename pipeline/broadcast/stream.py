"""Reading the log for one subscriber: the replay at the start and every catch-up after a gap.

The resume loop itself lives in ``EventHub.subscribe``. Invariant: ``last`` is the cursor of the
last entry yielded. A live event is yielded only if its ``prev`` is ``last``: it directly
follows. Anything at or before ``last`` is a duplicate and is skipped; anything else (a
broadcast lost, reordered, or dropped for a slow consumer) sends the subscriber to the log for
everything after ``last``, which is the source of truth.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from pipeline.broadcast.cancellation import raise_if_cancel_swallowed
from pipeline.broadcast.errors import HubClosed, LogUnavailable
from pipeline.broadcast.log_base import EventLog, LogEntry
from pipeline.broadcast.subscriber import LocalSubscriber


async def read_log(
    log: EventLog, channel: str, subscriber: LocalSubscriber, last: str, page_size: int
) -> AsyncIterator[LogEntry]:
    """Every logged entry after ``last``, page by page; live events queued meanwhile are
    dropped first (the log has them, in order). The subscriber must already receive live
    events, so nothing published while this reads can fall through."""
    subscriber.lagged = False
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
            return
