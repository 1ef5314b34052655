"""What screens and holograms rely on, on one process (memory) and across processes (Redis)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from pipeline.broadcast import (
    CursorExpired,
    EventLog,
    HubClosed,
    InvalidCursor,
    MemoryEventLog,
)
from pipeline.broadcast.log_redis import RedisStreamEventLog
from tests.broadcast.conftest import HubFactory
from tests.broadcast.helpers import Collector, CountingLog, wait_until


@dataclass
class Setup:
    url: str
    new_log: Callable[[], EventLog]  # one per hub, as each process has its own
    channel: str


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def setup(request: pytest.FixtureRequest, prefix: str) -> Setup:
    if request.param == "memory":
        shared = MemoryEventLog(1000)
        return Setup("memory://", lambda: shared, f"{prefix}conversation:1")
    url: str = request.getfixturevalue("redis_url")
    request.getfixturevalue("redis_client")  # deletes the test's keys afterwards
    return Setup(
        url,
        lambda: RedisStreamEventLog.from_url(url, 1000, key_prefix=prefix),
        f"{prefix}conversation:1",
    )


async def test_first_subscriber_gets_events_live_not_from_the_log(
    setup: Setup, start_hub: HubFactory
) -> None:
    log = CountingLog(setup.new_log())
    hub = await start_hub(setup.url, log)
    screen = Collector(hub.subscribe(setup.channel))
    await wait_until(lambda: log.reads == 1)  # live registration happens before the replay

    for i in range(3):
        await hub.publish(setup.channel, f'{{"n": {i}}}')

    entries = await screen.wait_for(3)
    assert [e.payload for e in entries] == ['{"n": 0}', '{"n": 1}', '{"n": 2}']
    assert log.reads == 1, "events must arrive over the broadcast, not by re-reading the log"
    await screen.close()


async def test_a_new_subscriber_without_cursor_starts_now(
    setup: Setup, start_hub: HubFactory
) -> None:
    hub = await start_hub(setup.url, setup.new_log())
    await hub.publish(setup.channel, "old")
    log_reads = CountingLog(hub.log)
    hub.log = log_reads
    screen = Collector(hub.subscribe(setup.channel))
    await wait_until(lambda: log_reads.reads == 1)

    await hub.publish(setup.channel, "new")

    assert [e.payload for e in await screen.wait_for(1)] == ["new"]
    await screen.close()


async def test_resuming_after_a_cursor_misses_nothing_and_repeats_nothing(
    setup: Setup, start_hub: HubFactory
) -> None:
    hub = await start_hub(setup.url, setup.new_log())
    before = await hub.tail(setup.channel)  # an empty channel's start
    first = Collector(hub.subscribe(setup.channel, before))
    for i in range(3):
        await hub.publish(setup.channel, str(i))
    seen = await first.wait_for(3)
    await first.close()

    for i in range(3, 6):  # published while the hologram was away
        await hub.publish(setup.channel, str(i))
    again = Collector(hub.subscribe(setup.channel, seen[-1].cursor))
    await again.wait_for(3)
    for i in range(6, 8):
        await hub.publish(setup.channel, str(i))
    await again.wait_for(5)
    await asyncio.sleep(0.1)  # time for a duplicate to show up, if there were one

    assert again.payloads == ["3", "4", "5", "6", "7"]
    await again.close()


async def test_an_erased_persons_events_are_skipped_and_a_cursor_at_one_still_resumes(
    setup: Setup, start_hub: HubFactory
) -> None:
    hub = await start_hub(setup.url, setup.new_log())
    before = await hub.tail(setup.channel)
    live = Collector(hub.subscribe(setup.channel, before))
    said = ['{"author_id":8,"n":0}', '{"author_id":7,"n":1}', '{"author_id":8,"n":2}']
    for payload in said[:2]:
        await hub.publish(setup.channel, payload)
    hers = (await live.wait_for(2))[-1].cursor  # the screen's last cursor is her event's
    await hub.erase([], [setup.channel], '"author_id":7,')
    await hub.publish(setup.channel, said[2])
    await live.wait_for(3)  # the live stream goes on
    await live.close()
    for cursor, expected in ((before, [said[0], said[2]]), (hers, [said[2]])):
        resumed = Collector(hub.subscribe(setup.channel, cursor))
        await resumed.wait_for(len(expected))
        await asyncio.sleep(0.05)
        assert resumed.payloads == expected
        await resumed.close()


async def test_events_published_during_the_replay_are_neither_lost_nor_doubled(
    setup: Setup, start_hub: HubFactory
) -> None:
    log = CountingLog(setup.new_log())
    hub = await start_hub(setup.url, log)
    start = await hub.tail(setup.channel)
    for i in range(3):
        await hub.publish(setup.channel, str(i))

    async def publish_mid_replay() -> None:
        for i in range(3, 6):
            await hub.publish(setup.channel, str(i))

    log.before_first_read_returns = publish_mid_replay
    screen = Collector(hub.subscribe(setup.channel, start))
    await screen.wait_for(6)
    await hub.publish(setup.channel, "6")
    await screen.wait_for(7)
    await asyncio.sleep(0.1)

    assert screen.payloads == [str(i) for i in range(7)]
    await screen.close()


async def test_a_stalled_hologram_does_not_hold_up_the_others_and_still_gets_everything(
    setup: Setup, start_hub: HubFactory
) -> None:
    hub = await start_hub(setup.url, setup.new_log(), queue_size=2)
    start = await hub.tail(setup.channel)
    fast = Collector(hub.subscribe(setup.channel, start))
    gate = asyncio.Event()
    slow_entries: list[str] = []

    async def slow_consumer() -> None:
        async with contextlib.aclosing(hub.subscribe(setup.channel, start)) as stream:
            async for entry in stream:
                slow_entries.append(entry.payload)
                await gate.wait()  # stalled, like a client on a dead network
                if len(slow_entries) == 50:
                    return

    slow = asyncio.create_task(slow_consumer())
    await wait_until(lambda: hub.stats().subscribers == 2)
    for i in range(50):
        await hub.publish(setup.channel, str(i))

    await fast.wait_for(50)
    assert slow_entries == ["0"]
    assert hub.stats().dropped_live_events > 0, "the small queue must have overflowed"
    gate.set()
    await asyncio.wait_for(slow, 5)

    assert fast.payloads == [str(i) for i in range(50)]
    assert slow_entries == [str(i) for i in range(50)]
    await fast.close()


async def test_a_client_further_behind_than_the_log_keeps_is_told_so(
    prefix: str, start_hub: HubFactory
) -> None:
    hub = await start_hub("memory://", MemoryEventLog(5), queue_size=2)
    channel = f"{prefix}conversation:1"
    first = await hub.publish(channel, "0")
    for i in range(1, 10):
        await hub.publish(channel, str(i))

    late = Collector(hub.subscribe(channel, first))
    error = await late.wait_error()

    assert isinstance(error, CursorExpired)
    assert error.code == "CURSOR_EXPIRED" and error.cursor == first
    assert late.entries == []
    await late.close()


async def test_a_lagging_subscriber_whose_gap_was_trimmed_gets_cursor_expired(
    prefix: str, start_hub: HubFactory
) -> None:
    hub = await start_hub("memory://", MemoryEventLog(5), queue_size=1)
    channel = f"{prefix}conversation:1"
    start = await hub.tail(channel)
    gate = asyncio.Event()
    seen: list[str] = []
    outcome: list[BaseException] = []

    async def stalled() -> None:
        try:
            async with contextlib.aclosing(hub.subscribe(channel, start)) as stream:
                async for entry in stream:
                    seen.append(entry.payload)
                    await gate.wait()
        except CursorExpired as e:
            outcome.append(e)

    task = asyncio.create_task(stalled())
    await wait_until(lambda: hub.stats().subscribers == 1)
    for i in range(20):
        await hub.publish(channel, str(i))
    await wait_until(lambda: seen == ["0"])
    gate.set()
    await asyncio.wait_for(task, 5)

    assert len(outcome) == 1, "it must fail loudly, not skip silently"
    assert seen[0] == "0" and "19" not in seen


async def test_bad_cursors_and_channels_are_refused_before_subscribing(
    setup: Setup, start_hub: HubFactory
) -> None:
    hub = await start_hub(setup.url, setup.new_log())
    with pytest.raises(InvalidCursor):
        await anext(hub.subscribe(setup.channel, "garbage"))
    with pytest.raises(ValueError):
        await hub.publish("has space", "x")
    assert hub.stats().channels == 0


async def test_stopping_the_hub_ends_subscriptions_with_hub_closed(
    setup: Setup, start_hub: HubFactory
) -> None:
    hub = await start_hub(setup.url, setup.new_log())
    screen = Collector(hub.subscribe(setup.channel))
    await wait_until(lambda: hub.stats().subscribers == 1)

    await hub.stop()

    assert isinstance(await screen.wait_error(), HubClosed)
    with pytest.raises(HubClosed):
        await hub.publish(setup.channel, "late")
    await screen.close()


async def test_one_broadcast_subscription_per_channel_however_many_screens(
    setup: Setup, start_hub: HubFactory
) -> None:
    hub = await start_hub(setup.url, setup.new_log())
    screens = [Collector(hub.subscribe(setup.channel)) for _ in range(5)]
    await wait_until(lambda: hub.stats().subscribers == 5)
    assert hub.stats().channels == 1

    await screens[0].close()
    assert hub.stats().channels == 1
    for screen in screens[1:]:
        await screen.close()
    assert hub.stats().channels == 0 and hub.stats().subscriptions_opened == 1

    start = await hub.tail(setup.channel)
    again = Collector(hub.subscribe(setup.channel, start))  # subscribes afresh after the last left
    await wait_until(lambda: hub.stats().channels == 1)
    cursor = await hub.publish(setup.channel, "back")
    assert (await again.wait_for(1))[0].cursor == cursor
    await again.close()
