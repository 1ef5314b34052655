"""Several hub subscriptions read as one, for a subscription that follows more than one
channel (a hologram: its own commands and its companion's replies).

Each channel is pumped into one queue under a tag; a tag restarted on another channel gets a
new generation, so entries still queued from the channel it left are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib

from pipeline.broadcast.hub import EventHub
from pipeline.broadcast.log_base import LogEntry

Item = tuple[str, int, LogEntry | None, BaseException | None]


class Merge:
    def __init__(self, hub: EventHub) -> None:
        self.hub = hub
        self.queue: asyncio.Queue[Item] = asyncio.Queue()
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.generations: dict[str, int] = {}

    def start(self, tag: str, channel: str, after: str) -> None:
        """Follow ``channel`` after ``after`` under ``tag`` (in place of what it followed)."""
        self.stop(tag)
        generation = self.generations[tag] = self.generations.get(tag, 0) + 1
        self.tasks[tag] = asyncio.create_task(self._pump(tag, generation, channel, after))

    def stop(self, tag: str) -> None:
        self.generations[tag] = self.generations.get(tag, 0) + 1
        task = self.tasks.pop(tag, None)
        if task is not None:
            task.cancel()

    async def next(self) -> tuple[str, LogEntry]:
        """The next entry of a channel still followed; a channel's failure is raised."""
        while True:
            tag, generation, entry, error = await self.queue.get()
            if generation != self.generations.get(tag):
                continue
            if error is not None:
                raise error
            assert entry is not None
            return tag, entry

    async def aclose(self) -> None:
        tasks = list(self.tasks.values())
        self.tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _pump(self, tag: str, generation: int, channel: str, after: str) -> None:
        try:
            async with contextlib.aclosing(self.hub.subscribe(channel, after)) as stream:  # type: ignore[type-var]
                async for entry in stream:
                    await self.queue.put((tag, generation, entry, None))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - raised to the reader, which answers it
            await self.queue.put((tag, generation, None, e))
