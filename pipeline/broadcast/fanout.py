"""One broadcaster subscription per channel per process, shared by its local subscribers.

A pump task per channel holds the broadcaster subscription and hands each event to every local
subscriber without waiting (``LocalSubscriber.offer``), so one slow client never stalls the rest
and broadcaster's own (unbounded) queue is drained as fast as events arrive. The subscription
is reference counted: the last local subscriber to leave ends it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Hashable
from dataclasses import dataclass, field

from broadcaster import Broadcast

from pipeline.broadcast import wire
from pipeline.broadcast.errors import HubClosed
from pipeline.broadcast.subscriber import LocalSubscriber

logger = logging.getLogger(__name__)

# How long the pump waits for direct deliverers to prepare an event before offering it anyway
# (those not ready then take the queued path): one stuck rendering must not stall a channel.
PREPARE_TIMEOUT_S = 1.0


@dataclass(eq=False, slots=True)
class _Channel:
    ready: asyncio.Future[None]
    # A dict as an ordered set: events reach subscribers in the order they joined, the same
    # order on every run (a set's order follows memory addresses).
    subscribers: dict[LocalSubscriber, None] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None


class ChannelFanout:
    def __init__(self, broadcast: Broadcast) -> None:
        self._broadcast = broadcast
        self._channels: dict[str, _Channel] = {}
        # Pumps being torn down; a new subscription to the channel waits for them so that
        # UNSUBSCRIBE never overtakes the SUBSCRIBE that follows it.
        self._closing: dict[str, asyncio.Task[None]] = {}
        self.subscriptions_opened = 0

    @property
    def open_channels(self) -> int:
        return len(self._channels)

    def subscriber_count(self, channel: str) -> int:
        entry = self._channels.get(channel)
        return len(entry.subscribers) if entry else 0

    def all_subscribers(self) -> list[LocalSubscriber]:
        return [s for entry in self._channels.values() for s in entry.subscribers]

    async def join(self, channel: str, subscriber: LocalSubscriber) -> None:
        """Return once live events of ``channel`` reach ``subscriber``."""
        while (closing := self._closing.get(channel)) is not None:
            await asyncio.wait({closing})
        entry = self._channels.get(channel)
        if entry is None:
            entry = _Channel(ready=asyncio.get_running_loop().create_future())
            self._channels[channel] = entry
            entry.task = asyncio.create_task(self._pump(channel, entry), name=f"pump:{channel}")
            entry.task.add_done_callback(_log_failure)
            self.subscriptions_opened += 1
        entry.subscribers[subscriber] = None
        try:
            await asyncio.shield(entry.ready)
        except BaseException:
            await self.leave(channel, subscriber)
            raise

    async def leave(self, channel: str, subscriber: LocalSubscriber) -> None:
        entry = self._channels.get(channel)
        if entry is None or subscriber not in entry.subscribers:
            return
        entry.subscribers.pop(subscriber, None)
        if entry.subscribers or entry.task is None:
            return
        del self._channels[channel]
        # A task of its own, so a leaver that is cancelled meanwhile cannot strand the pump.
        stopper = asyncio.create_task(_stop_pump(entry), name=f"stop-pump:{channel}")
        self._closing[channel] = stopper
        stopper.add_done_callback(lambda t: self._forget_closing(channel, t))
        await asyncio.shield(stopper)

    async def close(self) -> None:
        """Stop every pump; their subscribers end with ``HubClosed``."""
        entries = list(self._channels.values())
        self._channels.clear()
        for entry in entries:
            for subscriber in entry.subscribers:
                subscriber.close()
        stoppers = [asyncio.create_task(_stop_pump(entry)) for entry in entries]
        stoppers += self._closing.values()
        if stoppers:
            await asyncio.wait(stoppers)

    async def _pump(self, channel: str, entry: _Channel) -> None:
        try:
            async with self._broadcast.subscribe(channel) as feed:
                entry.ready.set_result(None)
                while True:
                    event = await feed.get()
                    if event.message == wire.RESYNC:
                        for subscriber in tuple(entry.subscribers):
                            subscriber.resync()
                        continue
                    item = wire.decode(event.message)
                    if item is None:
                        logger.warning("ignoring a foreign message on %s", channel)
                        continue
                    subscribers = tuple(entry.subscribers)
                    await _prepare(subscribers, item)
                    for subscriber in subscribers:
                        subscriber.offer(item)
        finally:
            if not entry.ready.done():
                if entry.subscribers:
                    entry.ready.set_exception(HubClosed())
                else:
                    entry.ready.cancel()  # nobody waits: no "exception never retrieved"
            for subscriber in entry.subscribers:
                subscriber.close()

    def _forget_closing(self, channel: str, task: asyncio.Task[None]) -> None:
        if not task.cancelled():
            task.exception()  # _stop_pump raises nothing; keeps asyncio from warning if it did
        if self._closing.get(channel) is task:
            del self._closing[channel]


async def _stop_pump(entry: _Channel) -> None:
    if entry.task is None:
        return
    # broadcaster's Broadcast.subscribe() breaks if cancelled inside backend.subscribe() (its
    # cleanup raises KeyError and never unsubscribes): let the subscribe finish first.
    if not entry.ready.done():
        await asyncio.wait({entry.ready})
    entry.task.cancel()
    await asyncio.wait({entry.task})


async def _prepare(subscribers: tuple[LocalSubscriber, ...], item: wire.Live) -> None:
    """Run the direct deliverers' preparations for ``item``, once per group, before anyone is
    offered it. A failure or a slow one only sends its subscribers down the queued path (whose
    consumer meets the same failure and reports it)."""
    groups: set[Hashable] = set()
    pending: set[Awaitable[object]] | None = None
    for subscriber in subscribers:
        direct = subscriber.direct
        if direct is None or direct.prepare is None or direct.group in groups:
            continue
        groups.add(direct.group)
        work = direct.prepare(item.entry)
        if work is not None:
            if pending is None:
                pending = set()
            pending.add(work)
    if pending is None:
        return
    tasks = {asyncio.ensure_future(work) for work in pending}
    done, _ = await asyncio.wait(tasks, timeout=PREPARE_TIMEOUT_S)
    for task in done:
        if not task.cancelled():
            task.exception()  # retrieved: the consumer path reports it to its client


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error("broadcast pump %s failed", task.get_name(), exc_info=error)
