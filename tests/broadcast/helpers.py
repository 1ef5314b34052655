"""Read a subscription in a background task, as a WebSocket handler would."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from pipeline.broadcast import Appended, EventLog, LogEntry


class Collector:
    def __init__(self, stream: AsyncIterator[LogEntry]) -> None:
        self.entries: list[LogEntry] = []
        self.error: BaseException | None = None
        self._stream = stream
        self._arrived = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async with contextlib.aclosing(self._stream):  # type: ignore[type-var]
                async for entry in self._stream:
                    self.entries.append(entry)
                    self._arrived.set()
        except Exception as e:
            self.error = e
            self._arrived.set()

    async def wait_for(self, n: int, within: float = 5.0) -> list[LogEntry]:
        """The first ``n`` entries; fails on timeout or if the stream failed."""

        async def _wait() -> None:
            while len(self.entries) < n and self.error is None:
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(_wait(), within)
        if self.error is not None and len(self.entries) < n:
            raise self.error
        return self.entries[:n]

    async def wait_error(self, within: float = 5.0) -> BaseException:
        async def _wait() -> None:
            while self.error is None:
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(_wait(), within)
        assert self.error is not None
        return self.error

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    @property
    def payloads(self) -> list[str]:
        return [e.payload for e in self.entries]


class CountingLog:
    """Wraps a log to count catch-up reads (0 extra reads = delivered live) and inject races."""

    def __init__(self, inner: EventLog) -> None:
        self.inner = inner
        self.reads = 0
        self.before_first_read_returns: Callable[[], Awaitable[None]] | None = None

    async def append(self, channel: str, payload: str) -> Appended:
        return await self.inner.append(channel, payload)

    async def read_after(self, channel: str, after: str, limit: int) -> list[LogEntry]:
        self.reads += 1
        entries = await self.inner.read_after(channel, after, limit)
        hook, self.before_first_read_returns = self.before_first_read_returns, None
        if hook is not None:
            await hook()
        return entries

    async def tail(self, channel: str) -> str:
        return await self.inner.tail(channel)

    def cursor_key(self, cursor: str) -> tuple[int, ...]:
        return self.inner.cursor_key(cursor)

    async def erase(self, channels: Sequence[str], scrub: Sequence[str], marker: str) -> None:
        await self.inner.erase(channels, scrub, marker)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def wait_until(predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Poll: the states waited on (a Redis link, a subscriber count) signal nothing."""
    deadline = asyncio.get_running_loop().time() + within
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"condition not met within {within}s")
        await asyncio.sleep(0.005)
