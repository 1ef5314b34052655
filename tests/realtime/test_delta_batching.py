"""Text deltas are merged into short batches: fewer deliveries, same text, same order."""

from __future__ import annotations

import asyncio
from typing import Any

from services.coalesce import DeltaCoalescer


async def test_first_delta_is_immediate_then_batches_keep_order() -> None:
    sent: list[tuple[float, str, dict[str, Any]]] = []
    loop = asyncio.get_running_loop()

    async def publish(kind: str, data: dict[str, Any]) -> None:
        sent.append((loop.time(), kind, data))

    batcher = DeltaCoalescer(publish, window_s=0.05)
    start = loop.time()
    await batcher.delta("Hello")
    assert [s[1:] for s in sent] == [("MessageDelta", {"seq": 0, "text": "Hello"})]
    assert sent[0][0] - start < 0.01  # the first words are not held back
    for word in (" there,", " star", "-gazer"):
        await batcher.delta(word)
        await asyncio.sleep(0.005)
    await batcher.other("VisemeFrames", {"audio_seq": 0})  # flushes the buffer first
    await batcher.delta(" How")
    await batcher.delta(" are you?")
    await asyncio.sleep(0.08)  # the window closes by itself
    await batcher.flush()
    assert [(k, d) for _, k, d in sent] == [
        ("MessageDelta", {"seq": 0, "text": "Hello"}),
        ("MessageDelta", {"seq": 1, "text": " there, star-gazer"}),
        ("VisemeFrames", {"audio_seq": 0}),
        ("MessageDelta", {"seq": 2, "text": " How are you?"}),
    ]
    assert sent[-1][0] - sent[-2][0] >= 0.045
