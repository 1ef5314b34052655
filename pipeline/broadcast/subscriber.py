"""One local subscriber: a bounded list of live events plus flags that never block the sender.

The sender (the channel's pump) must never wait for a slow client: when the list is full the
event is dropped *for this subscriber only* and ``lagged`` is set, so the subscriber re-reads what
it missed from the log once it drains.

Not an ``asyncio.Queue``: there is one consumer and one producer, and a Queue's four deques and
event cost ~2.5 KiB per idle subscriber and a few calls per event; here it is a list and at most
one future.

A subscriber with a ``DirectDelivery`` whose consumer is parked, idle and in sync gets each live
event that directly follows ``last`` from the sender itself, with no task switch.
"""

from __future__ import annotations

import asyncio

from pipeline.broadcast.direct import DirectDelivery
from pipeline.broadcast.wire import Live


class LocalSubscriber:
    __slots__ = (
        "_items",
        "_loop",
        "_size",
        "_waiter",
        "closed",
        "direct",
        "dropped",
        "lagged",
        "last",
    )

    def __init__(self, queue_size: int, direct: DirectDelivery | None = None) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be positive")
        self._items: list[Live] = []  # a few at most, unless the client lags
        self._size = queue_size
        self._waiter: asyncio.Future[None] | None = None
        # Kept, not looked up per wait: asyncio.get_running_loop() makes a getpid() system
        # call each time, and the consumer waits once per event (strace: one per delivery).
        self._loop: asyncio.AbstractEventLoop | None = None
        self.lagged = False
        self.closed = False
        self.dropped = 0
        self.last = ""  # the cursor of the last entry given (set by the consumer first)
        self.direct = direct

    def offer(self, item: Live) -> None:
        if self.lagged:
            self.dropped += 1  # the log catch-up will bring it; queueing it would only be skipped
            return
        direct = self.direct
        waiter = self._waiter
        if (
            direct is not None
            and waiter is not None
            and not waiter.done()  # parked, not cancelled nor already woken
            and not self._items
            and item.prev == self.last
            and direct.deliver is not None
            and direct.deliver(item.entry)
        ):
            self.last = item.entry.cursor
            return
        if len(self._items) >= self._size:
            self.lagged = True
            self.dropped += 1
            return
        self._items.append(item)
        self._wake()

    def resync(self) -> None:
        """Live events may have been lost upstream: re-read the log."""
        self.lagged = True
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    def discard_queued(self) -> None:
        """Before a log catch-up: the log has all of these, in order."""
        self._items.clear()

    def next_nowait(self) -> Live | None:
        """The oldest queued live event, or None if there is none yet."""
        return self._items.pop(0) if self._items else None

    def wait(self) -> asyncio.Future[None]:
        """Done at the next event or flag change. Plain calls and one future instead of a
        coroutine: the consumer waits here once per event."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        return waiter

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
