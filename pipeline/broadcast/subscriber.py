"""One local subscriber: a bounded queue of live events plus flags that never block the sender.

The sender (the channel's pump) must never wait for a slow client: when the queue is full the
event is dropped *for this subscriber only* and ``lagged`` is set, so the subscriber re-reads what
it missed from the log once it drains.
"""

from __future__ import annotations

import asyncio

from pipeline.broadcast.wire import Live


class LocalSubscriber:
    __slots__ = ("_queue", "closed", "dropped", "get", "lagged")

    def __init__(self, queue_size: int) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be positive")
        # None wakes the consumer to look at the flags.
        self._queue: asyncio.Queue[Live | None] = asyncio.Queue(maxsize=queue_size)
        self.lagged = False
        self.closed = False
        self.dropped = 0
        # The next live event, or None (look at the flags). The queue's own method, not a
        # wrapper coroutine: it is awaited once per event per subscriber.
        self.get = self._queue.get

    def offer(self, item: Live) -> None:
        if self.lagged:
            self.dropped += 1  # the log catch-up will bring it; queueing it would only be skipped
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.lagged = True
            self.dropped += 1

    def resync(self) -> None:
        """Live events may have been lost upstream: re-read the log."""
        self.lagged = True
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    def discard_queued(self) -> None:
        """Before a log catch-up: the log has all of these, in order."""
        while not self._queue.empty():
            self._queue.get_nowait()

    def _wake(self) -> None:
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:
            pass  # a full queue wakes the consumer anyway
