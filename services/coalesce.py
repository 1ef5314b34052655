"""Merge a reply's text deltas into ~50 ms batches before they fan out.

A model streams a token every 10-30 ms; sending each one to every subscriber multiplies
deliveries by the token count while no reader can tell 50 ms apart. The first delta goes out
at once (first-token latency is what people notice), other events flush the buffer first so
order is kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from pipeline import events as ev

Publish = Callable[[ev.ConversationEvent], Awaitable[None]]


class DeltaCoalescer:
    def __init__(self, publish: Publish, window_s: float = 0.05) -> None:
        self._publish = publish
        self._window_s = window_s
        self._lock = asyncio.Lock()
        self._buffer: list[str] = []
        self._seq = 0
        self._timer: asyncio.TimerHandle | None = None
        self._pending: set[asyncio.Task[None]] = set()

    async def delta(self, text: str) -> None:
        async with self._lock:
            self._buffer.append(text)
            if self._seq == 0:
                await self._flush_locked()
            elif self._timer is None:
                self._timer = asyncio.get_running_loop().call_later(self._window_s, self._due)

    async def other(self, event: ev.ConversationEvent) -> None:
        async with self._lock:
            await self._flush_locked()
            await self._publish(event)

    async def flush(self) -> None:
        async with self._lock:
            await self._flush_locked()

    def _due(self) -> None:
        self._timer = None
        task = asyncio.ensure_future(self.flush())
        self._pending.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._pending.discard(task)
        if not task.cancelled():
            task.exception()  # a failed publish (replay log unreachable) fails the next one too

    async def _flush_locked(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._buffer:
            return
        text = "".join(self._buffer)
        self._buffer.clear()
        seq = self._seq
        self._seq += 1
        await self._publish(ev.MessageDelta(seq, text))
