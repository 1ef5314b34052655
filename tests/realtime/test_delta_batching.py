"""Text deltas are merged into short batches: fewer deliveries, same text, same order."""

from __future__ import annotations

import asyncio

from pipeline.events import ConversationEvent, MessageDelta, VisemeFrames
from services.coalesce import DeltaCoalescer


async def test_first_delta_is_immediate_then_batches_keep_order() -> None:
    sent: list[tuple[float, ConversationEvent]] = []
    loop = asyncio.get_running_loop()

    async def publish(event: ConversationEvent) -> None:
        sent.append((loop.time(), event))

    batcher = DeltaCoalescer(publish, window_s=0.05)
    start = loop.time()
    await batcher.delta("Hello")
    assert [event for _, event in sent] == [MessageDelta(0, "Hello")]
    assert sent[0][0] - start < 0.01  # the first words are not held back
    for word in (" there,", " star", "-gazer"):
        await batcher.delta(word)
        await asyncio.sleep(0.005)
    await batcher.other(VisemeFrames(0))  # flushes the buffer first
    await batcher.delta(" How")
    await batcher.delta(" are you?")
    await asyncio.sleep(0.08)  # the window closes by itself
    await batcher.flush()
    assert [event for _, event in sent] == [
        MessageDelta(0, "Hello"),
        MessageDelta(1, " there, star-gazer"),
        VisemeFrames(0),
        MessageDelta(2, " How are you?"),
    ]
    assert sent[-1][0] - sent[-2][0] >= 0.045
