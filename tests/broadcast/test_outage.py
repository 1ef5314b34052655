"""Redis goes away mid-conversation and comes back: subscribers resume, honestly."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline.broadcast import CursorExpired, LogUnavailable
from pipeline.broadcast.log_redis import RedisStreamEventLog
from pipeline.broadcast.log_sql import SqlEventLog
from pipeline.broadcast.redis_backend import RedisPubSubBackend
from tests.broadcast.conftest import HubFactory, PrivateRedis
from tests.broadcast.helpers import Collector, wait_until

# Outage tests stop and freeze Redis servers on timers: one worker runs them all, in turn.
pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.xdist_group("redis-outage")]

CHANNEL = "conversation:42"


def fast_backend(server: PrivateRedis) -> RedisPubSubBackend:
    return RedisPubSubBackend(server.url, backoff_max=0.2, ping_interval=0.2, connect_timeout=1.0)


async def test_with_a_durable_log_nothing_is_lost_across_a_redis_restart(
    private_redis: PrivateRedis,
    sqlite_sessionmaker: async_sessionmaker[AsyncSession],
    start_hub: HubFactory,
) -> None:
    listener_backend = fast_backend(private_redis)
    listener = await start_hub(listener_backend, SqlEventLog(sqlite_sessionmaker))
    publisher = await start_hub(fast_backend(private_redis), SqlEventLog(sqlite_sessionmaker))
    start = await listener.tail(CHANNEL)
    hologram = Collector(listener.subscribe(CHANNEL, start))
    await wait_until(lambda: listener.stats().channels == 1)
    for i in range(3):
        await publisher.publish(CHANNEL, f"before {i}")
    await hologram.wait_for(3)

    private_redis.kill()
    await wait_until(lambda: not listener_backend.connected)
    for i in range(2):  # logged; the broadcast fails and is only logged as a warning
        await publisher.publish(CHANNEL, f"during {i}")
    restarted = time.perf_counter()
    private_redis.start()
    await wait_until(lambda: listener_backend.connected)
    reconnect_s = time.perf_counter() - restarted
    await hologram.wait_for(5)  # the missed ones, from the log, on RESYNC
    for i in range(2):
        await publisher.publish(CHANNEL, f"after {i}")
    await hologram.wait_for(7)

    assert hologram.payloads == [
        *(f"before {i}" for i in range(3)),
        *(f"during {i}" for i in range(2)),
        *(f"after {i}" for i in range(2)),
    ]
    assert listener_backend.stats.link_losses == 1 and listener_backend.stats.resyncs == 1
    assert reconnect_s < 2.0
    await hologram.close()


async def test_with_the_log_in_a_non_persistent_redis_the_client_is_told_to_reload(
    private_redis: PrivateRedis, start_hub: HubFactory
) -> None:
    # The restart empties the stream: we cannot prove nothing was missed, so we say so.
    listener_backend = fast_backend(private_redis)
    listener = await start_hub(listener_backend, RedisStreamEventLog.from_url(private_redis.url))
    publisher = await start_hub(
        fast_backend(private_redis), RedisStreamEventLog.from_url(private_redis.url)
    )
    hologram = Collector(listener.subscribe(CHANNEL, await listener.tail(CHANNEL)))
    await wait_until(lambda: listener.stats().channels == 1)
    await publisher.publish(CHANNEL, "before")
    await hologram.wait_for(1)

    private_redis.kill()
    with pytest.raises(LogUnavailable):  # refused, not silently dropped
        await publisher.publish(CHANNEL, "during")
    private_redis.start()

    error = await hologram.wait_error()
    assert isinstance(error, CursorExpired)
    assert hologram.payloads == ["before"]
    await hologram.close()

    # The client reloads and subscribes again without a cursor: live events flow again.
    start = await listener.tail(CHANNEL)
    again = Collector(listener.subscribe(CHANNEL, start))
    await wait_until(lambda: listener.stats().channels == 1)
    await publisher.publish(CHANNEL, "after")
    assert [e.payload for e in await again.wait_for(1)] == ["after"]
    await again.close()


async def test_a_redis_that_stops_answering_is_detected_and_reconnected(
    private_redis: PrivateRedis,
    sqlite_sessionmaker: async_sessionmaker[AsyncSession],
    start_hub: HubFactory,
) -> None:
    backend = fast_backend(private_redis)
    hub = await start_hub(backend, SqlEventLog(sqlite_sessionmaker))
    hologram = Collector(hub.subscribe(CHANNEL, await hub.tail(CHANNEL)))
    await wait_until(lambda: hub.stats().channels == 1)
    pid = private_redis.pid

    os.kill(pid, signal.SIGSTOP)  # the socket stays open, nothing answers
    try:
        await wait_until(lambda: backend.stats.link_losses == 1, within=3)
    finally:
        os.kill(pid, signal.SIGCONT)
    await wait_until(lambda: backend.connected, within=3)
    await hub.publish(CHANNEL, "after the freeze")

    assert [e.payload for e in await hologram.wait_for(1)] == ["after the freeze"]
    await hologram.close()


async def test_a_screen_that_subscribes_while_redis_is_down_replays_then_goes_live(
    private_redis: PrivateRedis,
    sqlite_sessionmaker: async_sessionmaker[AsyncSession],
    start_hub: HubFactory,
) -> None:
    backend = fast_backend(private_redis)
    hub = await start_hub(backend, SqlEventLog(sqlite_sessionmaker))
    first = await hub.publish(CHANNEL, "earlier")
    await hub.publish(CHANNEL, "missed")
    private_redis.kill()
    await wait_until(lambda: not backend.connected)

    screen = Collector(hub.subscribe(CHANNEL, first))
    assert [e.payload for e in await screen.wait_for(1)] == ["missed"]  # not left hanging
    private_redis.start()
    await wait_until(lambda: backend.connected)
    await asyncio.sleep(0.05)
    await hub.publish(CHANNEL, "live again")

    assert [e.payload for e in await screen.wait_for(2)] == ["missed", "live again"]
    await screen.close()
