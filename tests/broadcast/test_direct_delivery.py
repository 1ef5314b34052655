"""The direct path: live events handed to a parked subscriber inside the pump.

Whatever the direct path takes and whatever it declines, a subscriber still sees every event
once, in order; a gap still sends it to the log, from the last event it was given either way.
"""

from __future__ import annotations

import asyncio
import contextlib

from pipeline.broadcast import LogEntry, MemoryEventLog
from pipeline.broadcast.direct import DirectDelivery
from tests.broadcast.conftest import HubFactory
from tests.broadcast.helpers import Collector, CountingLog, wait_until

CHANNEL = "conversation:7"


def direct_to(taken: list[str], declined: frozenset[str] = frozenset()) -> DirectDelivery:
    direct = DirectDelivery()

    def deliver(entry: LogEntry) -> bool:
        if entry.payload in declined:
            return False
        taken.append(entry.payload)
        return True

    direct.deliver = deliver
    return direct


async def test_a_parked_subscriber_is_handed_live_events_without_waking_up(
    start_hub: HubFactory,
) -> None:
    log = CountingLog(MemoryEventLog(100))
    hub = await start_hub("memory://", log)
    taken: list[str] = []
    screen = Collector(hub.subscribe(CHANNEL, direct=direct_to(taken)))
    await wait_until(lambda: log.reads == 1)

    for i in range(5):
        await hub.publish(CHANNEL, str(i))
    await wait_until(lambda: len(taken) == 5)

    assert taken == ["0", "1", "2", "3", "4"]
    assert screen.entries == [], "the consumer must not also get what was delivered directly"
    assert log.reads == 1
    await screen.close()


async def test_what_the_direct_path_declines_arrives_through_the_consumer_in_order(
    start_hub: HubFactory,
) -> None:
    hub = await start_hub("memory://", MemoryEventLog(100))
    taken: list[str] = []
    screen = Collector(
        hub.subscribe(
            CHANNEL, await hub.tail(CHANNEL), direct_to(taken, frozenset({"2", "5", "6"}))
        )
    )
    await wait_until(lambda: hub.stats().subscribers == 1)

    for i in range(9):
        await hub.publish(CHANNEL, str(i))
        await asyncio.sleep(0)  # the consumer gets to park again between some of them
    await wait_until(lambda: len(taken) + len(screen.entries) == 9)
    await asyncio.sleep(0.05)

    assert set(screen.payloads) >= {"2", "5", "6"}
    assert sorted(taken + screen.payloads, key=int) == [str(i) for i in range(9)]
    assert len(taken + screen.payloads) == 9, "nothing twice"
    # Each path on its own keeps publication order.
    assert taken == sorted(taken, key=int)
    assert screen.payloads == sorted(screen.payloads, key=int)
    await screen.close()


async def test_after_a_gap_the_log_is_read_from_the_last_event_given_either_way(
    start_hub: HubFactory,
) -> None:
    hub = await start_hub("memory://", MemoryEventLog(100), queue_size=2)
    start = await hub.tail(CHANNEL)
    taken: list[str] = []
    consumed: list[str] = []
    gate = asyncio.Event()

    async def stalling_consumer() -> None:
        stream = hub.subscribe(CHANNEL, start, direct_to(taken, frozenset({"3"})))
        async with contextlib.aclosing(stream):  # type: ignore[type-var]
            async for entry in stream:
                consumed.append(entry.payload)
                await gate.wait()  # a client that stops reading for a while

    consumer = asyncio.create_task(stalling_consumer())
    await wait_until(lambda: hub.stats().subscribers == 1)
    for i in range(4):  # 0-2 directly; 3 declined, so the consumer takes it and stalls
        await hub.publish(CHANNEL, str(i))
    await wait_until(lambda: consumed == ["3"])
    for i in range(4, 10):  # the consumer is busy: these queue, overflow, and are dropped
        await hub.publish(CHANNEL, str(i))
    await wait_until(lambda: hub.stats().dropped_live_events > 0)

    gate.set()
    await wait_until(lambda: len(consumed) == 7)  # 3, then 4-9 from the log
    await asyncio.sleep(0.05)  # parked again
    for i in range(10, 12):
        await hub.publish(CHANNEL, str(i))
    await wait_until(lambda: len(taken) == 5)

    assert taken == ["0", "1", "2", "10", "11"]
    assert consumed == [str(i) for i in range(3, 10)]
    consumer.cancel()
    await asyncio.gather(consumer, return_exceptions=True)


async def test_the_pump_prepares_an_event_before_offering_it_and_a_failure_only_declines(
    start_hub: HubFactory,
) -> None:
    hub = await start_hub("memory://", MemoryEventLog(100))
    prepared: set[str] = set()
    taken: list[str] = []
    direct = DirectDelivery()

    async def render(entry: LogEntry) -> None:
        await asyncio.sleep(0.01)  # asynchronous work, such as a GraphQL execution
        if entry.payload == "bad":
            raise RuntimeError("rendering failed")
        prepared.add(entry.cursor)

    def deliver(entry: LogEntry) -> bool:
        if entry.cursor not in prepared:
            return False
        taken.append(entry.payload)
        return True

    direct.prepare = render
    direct.deliver = deliver
    screen = Collector(hub.subscribe(CHANNEL, await hub.tail(CHANNEL), direct))
    await wait_until(lambda: hub.stats().subscribers == 1)

    for payload in ("a", "bad", "c"):
        await hub.publish(CHANNEL, payload)
    await wait_until(lambda: len(taken) + len(screen.entries) == 3)

    assert taken == ["a", "c"]
    assert screen.payloads == ["bad"]
    await screen.close()


async def test_subscribers_of_one_group_share_one_preparation_per_event(
    start_hub: HubFactory,
) -> None:
    hub = await start_hub("memory://", MemoryEventLog(100))
    prepared: list[tuple[str, str]] = []
    taken: list[str] = []
    start = await hub.tail(CHANNEL)
    screens = []
    for group in ("document A", "document A", "document A", "document B"):
        direct = direct_to(taken)

        def prepare(entry: LogEntry, group: str = group) -> None:
            prepared.append((group, entry.payload))

        direct.prepare, direct.group = prepare, group
        screens.append(Collector(hub.subscribe(CHANNEL, start, direct)))
    await wait_until(lambda: hub.stats().subscribers == 4)

    for payload in ("x", "y"):
        await hub.publish(CHANNEL, payload)
    await wait_until(lambda: len(taken) == 8)

    assert prepared == [
        ("document A", "x"),
        ("document B", "x"),
        ("document A", "y"),
        ("document B", "y"),
    ]
    for screen in screens:
        await screen.close()
