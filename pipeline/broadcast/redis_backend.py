"""A broadcaster backend for Redis pub/sub that confirms subscriptions and survives outages.

broadcaster 0.3.1's own Redis backend with redis-py 8 delivers nothing to the first subscription
(it starts listening before SUBSCRIBE is confirmed) and never recovers from a lost connection.
This one owns a raw connection and a supervisor task:

- ``subscribe()`` returns once Redis confirms the SUBSCRIBE, so a publish right after it is seen;
- when the connection drops (or stops answering PINGs) it reconnects with capped, jittered
  backoff, re-subscribes every channel and emits ``wire.RESYNC`` on each: pub/sub lost whatever
  was published meanwhile, and subscribers re-read it from the event log;
- ``next_published()`` never raises, so broadcaster's listener task never dies.

If Redis is down when a channel is subscribed, ``subscribe()`` returns at once and the channel is
subscribed (with a RESYNC) when Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from dataclasses import dataclass
from typing import Any

from broadcaster import BroadcastBackend, Event
from redis.asyncio import Redis
from redis.asyncio.connection import Connection, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from pipeline.broadcast import wire
from pipeline.broadcast.cancellation import raise_if_cancel_swallowed
from pipeline.broadcast.errors import BroadcastUnavailable

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class BackendStats:
    links: int = 0  # successful (re)connections of the listening connection
    link_losses: int = 0
    subscribe_commands: int = 0
    unsubscribe_commands: int = 0
    resyncs: int = 0


class RedisPubSubBackend(BroadcastBackend):
    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = 5.0,
        subscribe_timeout: float = 5.0,
        backoff_min: float = 0.05,
        backoff_max: float = 2.0,
        ping_interval: float = 5.0,
    ) -> None:
        # BroadcastBackend.__init__ only raises NotImplementedError: not called.
        self._url = url
        self._connect_timeout = connect_timeout
        self._subscribe_timeout = subscribe_timeout
        self._backoff_min = backoff_min
        self._backoff_max = backoff_max
        self._ping_interval = ping_interval
        self.stats = BackendStats()
        self._channels: set[str] = set()  # what should be subscribed
        self._resync_on_confirm: set[str] = set()
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._send_lock = asyncio.Lock()
        self._conn: Connection | None = None  # set while subscribed and listening
        self._linked = asyncio.Event()
        self._last_seen = 0.0
        self._publisher: Redis | None = None
        self._supervisor: asyncio.Task[None] | None = None

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._channels)

    @property
    def connected(self) -> bool:
        return self._conn is not None

    async def connect(self) -> None:
        options = resilient_client_options(self._connect_timeout)
        self._publisher = Redis.from_url(self._url, **options)
        self._supervisor = asyncio.create_task(self._supervise(), name="redis-pubsub-supervisor")
        try:
            async with asyncio.timeout(self._connect_timeout):  # not wait_for: see cancellation.py
                await self._linked.wait()
        except TimeoutError:
            await self.disconnect()
            raise BroadcastUnavailable(f"cannot reach Redis at {self._safe_url()}") from None

    async def disconnect(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        if self._publisher is not None:
            await self._publisher.aclose()
            self._publisher = None

    async def subscribe(self, channel: str) -> None:
        loop = asyncio.get_running_loop()
        async with self._send_lock:
            self._channels.add(channel)
            conn = self._conn
            if conn is None:
                return  # the supervisor subscribes it, with a RESYNC, once linked
            confirmed: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(channel, []).append(confirmed)
            try:
                await conn.send_command("SUBSCRIBE", channel, check_health=False)
                self.stats.subscribe_commands += 1
            except (RedisError, OSError):
                # The link is dying: the next one subscribes every channel and sends RESYNC.
                self._resync_on_confirm.add(channel)
                confirmed.set_result(None)
        try:
            async with asyncio.timeout(self._subscribe_timeout):
                await asyncio.shield(confirmed)
        except TimeoutError:
            logger.warning("Redis did not confirm SUBSCRIBE %s in time", channel)

    async def unsubscribe(self, channel: str) -> None:
        async with self._send_lock:
            self._channels.discard(channel)
            self._resync_on_confirm.discard(channel)
            conn = self._conn
            if conn is None:
                return
            with contextlib.suppress(RedisError, OSError):
                await conn.send_command("UNSUBSCRIBE", channel, check_health=False)
                self.stats.unsubscribe_commands += 1

    async def publish(self, channel: str, message: Any) -> None:
        if self._publisher is None:
            raise BroadcastUnavailable("backend not connected")
        try:
            await self._publisher.publish(channel, message)
        except (RedisError, OSError) as e:
            raise BroadcastUnavailable(f"cannot publish to {channel!r}: {e}") from e
        raise_if_cancel_swallowed()

    async def next_published(self) -> Event:
        return await self._events.get()

    async def _supervise(self) -> None:
        backoff = self._backoff_min
        while True:
            conn = self._new_connection()
            try:
                await conn.connect()  # type: ignore[no-untyped-call]
                self._last_seen = asyncio.get_running_loop().time()
                async with self._send_lock:
                    channels = sorted(self._channels)
                    if channels:
                        await conn.send_command("SUBSCRIBE", *channels, check_health=False)
                        self.stats.subscribe_commands += 1
                    self._resync_on_confirm = set(channels)
                    self._conn = conn
                self.stats.links += 1
                if self.stats.links > 1:
                    logger.info("Redis pub/sub link restored, %d channels", len(channels))
                self._linked.set()
                backoff = self._backoff_min
                await self._listen(conn)
            except (RedisError, OSError) as e:
                # One warning per outage, not one per attempt.
                level = logging.WARNING if self._conn is conn else logging.DEBUG
                logger.log(level, "Redis pub/sub link down (%s); reconnecting", e)
            except Exception:
                logger.exception("Redis pub/sub listener failed; reconnecting")
            finally:
                await self._drop_link(conn)
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, self._backoff_max)

    async def _listen(self, conn: Connection) -> None:
        """Read until the link fails; a watchdog closes it if Redis stops answering PINGs."""
        reader = asyncio.create_task(self._read_loop(conn))
        watchdog = asyncio.create_task(self._watchdog(conn))
        try:
            await asyncio.wait({reader, watchdog}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reader, watchdog):
                task.cancel()
            results = await asyncio.gather(reader, watchdog, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                raise result

    async def _read_loop(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        while True:
            reply = await conn.read_response(timeout=math.inf, disconnect_on_error=False)
            self._last_seen = loop.time()
            self._handle(reply)

    async def _watchdog(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._ping_interval)
            silent_for = loop.time() - self._last_seen
            if silent_for > 2 * self._ping_interval:
                raise ConnectionError(f"no reply from Redis for {silent_for:.1f}s")
            async with self._send_lock:
                await conn.send_command("PING", check_health=False)

    def _handle(self, reply: Any) -> None:
        if not isinstance(reply, list) or not reply:
            return
        kind = reply[0]
        if kind == b"message":
            self._events.put_nowait(Event(reply[1].decode(), reply[2].decode()))
        elif kind == b"subscribe":
            channel = reply[1].decode()
            for waiter in self._waiters.pop(channel, []):
                if not waiter.done():
                    waiter.set_result(None)
            if channel in self._resync_on_confirm:
                self._resync_on_confirm.discard(channel)
                if channel in self._channels:
                    self.stats.resyncs += 1
                    self._events.put_nowait(Event(channel, wire.RESYNC))

    async def _drop_link(self, conn: Connection) -> None:
        was_linked = self._conn is conn
        self._conn = None
        if was_linked:
            self.stats.link_losses += 1
        # Waiters proceed: their channels are re-subscribed, with a RESYNC, on the next link.
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        self._waiters.clear()
        with contextlib.suppress(Exception):
            await conn.disconnect(nowait=True)

    def _new_connection(self) -> Connection:
        options: dict[str, Any] = dict(parse_url(self._url))
        connection_class = options.pop("connection_class", Connection)
        options.pop("decode_responses", None)
        return connection_class(  # type: ignore[no-any-return]
            **options,
            protocol=2,
            socket_connect_timeout=self._connect_timeout,
            # No socket timeout: redis-py 8 defaults to 5 s, which routes every send through
            # asyncio.wait_for (see cancellation.py); the watchdog detects a dead link instead.
            socket_timeout=None,
            retry=Retry(ExponentialBackoff(), 0),
        )

    def _safe_url(self) -> str:
        return self._url.split("@")[-1]


def resilient_client_options(timeout: float) -> dict[str, Any]:
    """For command clients: a pooled connection that died with Redis is retried on a new one.

    redis-py retries only the error types listed in ``retry_on_error``, and only with the asyncio
    ``Retry`` (the sync one "succeeds" by returning an un-awaited coroutine); otherwise the first
    command after a Redis restart fails with "Connection closed by server".
    """
    return {
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
    }
