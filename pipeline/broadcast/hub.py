"""EventHub: publish to a channel, subscribe from a cursor, across processes.

``publish`` appends to the log first, then broadcasts; ``subscribe`` registers for live events
first, then replays the log, so nothing published in between can fall through.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from types import TracebackType

from broadcaster import BroadcastBackend

from pipeline.broadcast import wire
from pipeline.broadcast.backends import create_broadcast
from pipeline.broadcast.cancellation import raise_if_cancel_swallowed
from pipeline.broadcast.direct import DirectDelivery
from pipeline.broadcast.errors import BroadcastUnavailable, HubClosed, LogUnavailable
from pipeline.broadcast.fanout import ChannelFanout
from pipeline.broadcast.log_base import ERASED, Appended, EventLog, LogEntry
from pipeline.broadcast.stream import read_log
from pipeline.broadcast.subscriber import LocalSubscriber

logger = logging.getLogger(__name__)

CHANNEL_MAX_LEN = 128


@dataclass(frozen=True, slots=True)
class HubStats:
    channels: int  # broadcaster subscriptions open in this process
    subscribers: int  # local subscribers
    subscriptions_opened: int  # broadcaster subscriptions ever opened
    lagging: int  # subscribers currently reading the log to catch up
    dropped_live_events: int  # live events dropped for full queues (re-read from the log)


class EventHub:
    def __init__(
        self,
        broadcast: str | BroadcastBackend,
        log: EventLog,
        *,
        queue_size: int = 1000,
        page_size: int = 500,
        namespace: str = "",
        append_wait_s: float = 0.0,
    ) -> None:
        if queue_size < 1 or page_size < 1 or append_wait_s < 0:
            raise ValueError("queue_size, page_size must be positive; append_wait_s not < 0")
        # Several deployments (or test workers) may share one Redis: a namespace keeps their
        # channels apart, pub/sub included (Redis pub/sub ignores database numbers).
        self.namespace = namespace
        self.log = log
        self._broadcast = create_broadcast(broadcast)
        self._fanout = ChannelFanout(self._broadcast)
        self._queue_size = queue_size
        self._page_size = page_size
        # How long a publish keeps trying while the log is unreachable (a Redis restart takes
        # about a second): a reply then goes on instead of failing at the first hiccup.
        self._append_wait_s = append_wait_s
        self._dropped_by_gone = 0
        self._state = "new"

    async def start(self) -> None:
        if self._state != "new":
            raise RuntimeError(f"hub is {self._state}")
        await self._broadcast.connect()
        self._state = "running"

    async def stop(self) -> None:
        if self._state != "running":
            return
        self._state = "stopped"
        await self._fanout.close()
        await self._broadcast.disconnect()
        await self.log.aclose()

    async def __aenter__(self) -> EventHub:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def publish(self, channel: str, payload: str) -> str:
        """Append, then broadcast; return the cursor.

        Raises ``LogUnavailable`` if the log refused it for ``append_wait_s`` (nothing was
        published). If only the broadcast fails the event is kept: subscribers re-read the log
        when their backend reconnects (or at the next live event), so this returns normally
        and logs a warning.
        """
        self._check_running()
        channel = self.namespace + channel
        _check_channel(channel)
        if payload == ERASED:
            raise ValueError("an empty payload would read as an erased entry")
        appended = await self._append(channel, payload)
        message = wire.encode_live(appended.cursor, appended.prev, payload)
        try:
            await self._broadcast.publish(channel, message)
        except BroadcastUnavailable as e:
            logger.warning(
                "event %s on %s logged but not broadcast: %s", appended.cursor, channel, e
            )
        raise_if_cancel_swallowed()
        return appended.cursor

    async def _append(self, channel: str, payload: str) -> Appended:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._append_wait_s
        delay = 0.05
        while True:
            try:
                return await self.log.append(channel, payload)
            except LogUnavailable as e:
                if self._state != "running" or loop.time() + delay > deadline:
                    raise
                logger.warning("event log unreachable; retrying in %.2fs: %s", delay, e)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def tail(self, channel: str) -> str:
        """The newest cursor of ``channel``: hand it to a client that then subscribes after it."""
        return await self.log.tail(self.namespace + channel)

    async def subscribe(
        self, channel: str, after: str | None = None, direct: DirectDelivery | None = None
    ) -> AsyncIterator[LogEntry]:
        """Every entry after ``after`` (``None``: after the newest one now), in order, forever.

        With ``direct``, live events that directly follow may go to ``direct.deliver`` instead
        (while this generator waits for its next entry); only the others are yielded.

        Raises ``CursorExpired`` (now or later, if the client falls further behind than the log
        keeps), ``InvalidCursor``, ``LogUnavailable``, ``HubClosed``. Close it with
        ``contextlib.aclosing`` (or let the GraphQL server close it) to release the channel.
        """
        self._check_running()
        channel = self.namespace + channel
        _check_channel(channel)
        if after is not None:
            self.log.cursor_key(after)  # reject garbage before subscribing
        subscriber = LocalSubscriber(self._queue_size, direct=direct)
        await self._fanout.join(channel, subscriber)
        try:
            try:
                start = after if after is not None else await self.log.tail(channel)
            except LogUnavailable:
                if subscriber.closed:
                    raise HubClosed() from None
                raise
            raise_if_cancel_swallowed()
            # The resume loop is inlined (not a nested generator): it runs once per event per
            # subscriber that is not in sync. ``subscriber.last`` is the cursor of the last
            # entry yielded here or delivered directly (which advances it while this waits).
            subscriber.last = start
            log, key, need_log = self.log, self.log.cursor_key, True
            next_nowait, wait = subscriber.next_nowait, subscriber.wait
            while True:
                if subscriber.closed:
                    raise HubClosed()
                if need_log or subscriber.lagged:
                    need_log = False
                    async for entry in read_log(
                        log, channel, subscriber, subscriber.last, self._page_size
                    ):
                        subscriber.last = entry.cursor
                        if entry.payload != ERASED:  # redacted: the cursor moves on
                            yield entry
                    continue
                item = next_nowait()
                if item is None:
                    await wait()
                    item = next_nowait()
                    if item is None:
                        continue  # woken for the flags
                entry = item.entry
                last = subscriber.last
                if item.prev == last or (
                    key(item.prev) == key(last) and key(entry.cursor) > key(last)
                ):
                    subscriber.last = entry.cursor
                    yield entry
                elif key(entry.cursor) > key(last):
                    need_log = True  # a gap: the log has what was lost or dropped
        except (HubClosed, GeneratorExit, asyncio.CancelledError):
            raise
        except Exception as e:
            # A read cut off by stop() fails however the client library fails (redis-py
            # raises AttributeError on a closed pool): subscribers see one clear error.
            if self._state == "stopped":
                raise HubClosed() from e
            raise
        finally:
            self._dropped_by_gone += subscriber.dropped
            await self._fanout.leave(channel, subscriber)

    async def erase(self, channels: Sequence[str], scrub: Sequence[str], marker: str) -> None:
        """Forget ``channels`` in the replay log (their subscribers' cursors expire) and, in
        ``scrub``, redact the entries carrying ``marker`` (erasing a person): subscribers there
        read on past them, from any cursor, and never see them again."""
        self._check_running()
        await self.log.erase(
            [self.namespace + c for c in channels], [self.namespace + c for c in scrub], marker
        )

    def stats(self) -> HubStats:
        subscribers = self._fanout.all_subscribers()
        return HubStats(
            channels=self._fanout.open_channels,
            subscribers=len(subscribers),
            subscriptions_opened=self._fanout.subscriptions_opened,
            lagging=sum(s.lagged for s in subscribers),
            dropped_live_events=self._dropped_by_gone + sum(s.dropped for s in subscribers),
        )

    def _check_running(self) -> None:
        if self._state == "stopped":
            raise HubClosed()
        if self._state != "running":
            raise RuntimeError(
                "call start() (or use `async with`) before publishing or subscribing"
            )


def _check_channel(channel: str) -> None:
    if not channel or len(channel) > CHANNEL_MAX_LEN or any(c.isspace() for c in channel):
        raise ValueError(f"channel must be 1-{CHANNEL_MAX_LEN} characters without whitespace")
