"""Across processes on a real Redis: confirmed subscriptions, one per channel, order restored."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis

from pipeline.broadcast import wire
from pipeline.broadcast.log_redis import RedisStreamEventLog
from pipeline.broadcast.redis_backend import RedisPubSubBackend
from tests.broadcast.conftest import HubFactory
from tests.broadcast.helpers import Collector, wait_until

pytestmark = pytest.mark.redis


async def numsub(client: Redis, channel: str) -> int:
    ((_, count),) = await client.pubsub_numsub(channel)
    return int(count)


async def test_a_publish_right_after_the_first_subscribe_is_delivered(
    redis_url: str, redis_client: Redis, prefix: str
) -> None:
    backend = RedisPubSubBackend(redis_url)
    await backend.connect()
    try:
        latencies = []
        for i in range(20):  # the first subscription of each channel, many times
            channel = f"{prefix}conversation:{i}"
            await backend.subscribe(channel)
            sent = time.perf_counter()
            await redis_client.publish(channel, f"hello {i}")
            event = await asyncio.wait_for(backend.next_published(), 2)
            latencies.append(time.perf_counter() - sent)
            assert (event.channel, event.message) == (channel, f"hello {i}")
        assert backend.stats.subscribe_commands == 20
    finally:
        await backend.disconnect()


async def test_a_screen_on_one_process_sees_what_another_process_publishes(
    redis_url: str, redis_client: Redis, prefix: str, start_hub: HubFactory
) -> None:
    def new_log() -> RedisStreamEventLog:
        return RedisStreamEventLog.from_url(redis_url, key_prefix=prefix)

    hub_a = await start_hub(redis_url, new_log())
    hub_b = await start_hub(redis_url, new_log())
    channel = f"{prefix}conversation:1"
    start = await hub_b.tail(channel)
    on_a = Collector(hub_a.subscribe(channel, start))
    on_b = Collector(hub_b.subscribe(channel, start))
    await wait_until(lambda: hub_a.stats().channels == 1 and hub_b.stats().channels == 1)

    cursors = [await hub_b.publish(channel, f"from b {i}") for i in range(3)]
    cursors.append(await hub_a.publish(channel, "from a"))

    for screen in (on_a, on_b):
        entries = await screen.wait_for(4)
        assert [e.cursor for e in entries] == cursors
        assert screen.payloads == ["from b 0", "from b 1", "from b 2", "from a"]
    await on_a.close()
    await on_b.close()


async def test_one_redis_subscription_per_channel_per_process(
    redis_url: str, redis_client: Redis, prefix: str, start_hub: HubFactory
) -> None:
    def new_log() -> RedisStreamEventLog:
        return RedisStreamEventLog.from_url(redis_url, key_prefix=prefix)

    hub_a = await start_hub(redis_url, new_log())
    hub_b = await start_hub(redis_url, new_log())
    channel = f"{prefix}conversation:1"

    on_a = [Collector(hub_a.subscribe(channel)) for _ in range(5)]
    on_b = [Collector(hub_b.subscribe(channel)) for _ in range(3)]
    await wait_until(lambda: hub_a.stats().subscribers == 5 and hub_b.stats().subscribers == 3)
    await wait_until(lambda: hub_a.stats().channels == 1 and hub_b.stats().channels == 1)
    assert await numsub(redis_client, channel) == 2  # one connection per process

    for screen in on_a:
        await screen.close()
    await wait_until(lambda: hub_a.stats().channels == 0)
    assert await numsub(redis_client, channel) == 1
    for screen in on_b:
        await screen.close()
    assert await numsub(redis_client, channel) == 0


async def test_clients_that_leave_mid_read_really_leave(
    redis_url: str, redis_client: Redis, prefix: str, start_hub: HubFactory
) -> None:
    # Cancelling during a Redis read used to be swallowed on Python 3.11 (see cancellation.py).
    hub = await start_hub(redis_url, RedisStreamEventLog.from_url(redis_url, key_prefix=prefix))
    channel = f"{prefix}conversation:1"
    start = await hub.tail(channel)
    await hub.publish(channel, "x")
    for delay in (0, 0, 0.0005, 0.001, 0.002, 0.005):
        screens = [Collector(hub.subscribe(channel, start)) for _ in range(5)]
        await asyncio.sleep(delay)
        await asyncio.wait_for(asyncio.gather(*(s.close() for s in screens)), 2)
        assert hub.stats().subscribers == 0
    assert hub.stats().channels == 0
    assert await numsub(redis_client, channel) == 0


async def test_broadcasts_arriving_out_of_order_are_delivered_in_log_order(
    redis_url: str, redis_client: Redis, prefix: str, start_hub: HubFactory
) -> None:
    # Two processes append 1 then 2 but their PUBLISHes cross on the way to Redis.
    log = RedisStreamEventLog(redis_client, key_prefix=prefix)
    hub = await start_hub(redis_url, log)
    channel = f"{prefix}conversation:1"
    screen = Collector(hub.subscribe(channel, await log.tail(channel)))
    await wait_until(lambda: hub.stats().channels == 1)
    first = await log.append(channel, "1")
    second = await log.append(channel, "2")

    await redis_client.publish(channel, wire.encode_live(second.cursor, second.prev, "2"))
    await redis_client.publish(channel, wire.encode_live(first.cursor, first.prev, "1"))

    await screen.wait_for(2)
    await asyncio.sleep(0.1)
    assert screen.payloads == ["1", "2"]
    await screen.close()
