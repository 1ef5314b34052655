"""Barge-in latency: from `interruptReply` to the reply stopped and saved.

Starts the server (embedded default), and for each round subscribes, sends a message, waits
for the first audio chunk, then calls interruptReply and measures (a) the mutation's round
trip, which returns once generation and speech have stopped and the message is saved, and
(b) the time until ReplyInterrupted reaches the subscriber. Target: under 100 ms.

    .venv/bin/python -m bench.interrupt_latency [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from gql.transport.websockets import WebsocketsTransport

from store.migrate import upgrade
from tests.realtime.helpers import EVENTS, TERMINAL, ok, send, setup_conversation, ws_client
from tests.support.server import LiveServer, live_server


async def one_round(server: LiveServer, index: int) -> tuple[float, float]:
    world = setup_conversation(server, f"bench{index}@example.com")
    async with ws_client(server, world["token"], WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL) as s:
        cursor = ok(
            server,
            "query($c: ID!) { conversation(id: $c) { liveCursor } }",
            {"c": world["conversation"]},
            world["token"],
        )["conversation"]["liveCursor"]
        agen = s.subscribe(EVENTS, variable_values={"id": world["conversation"], "after": cursor})
        await asyncio.to_thread(
            send,
            server,
            world["token"],
            world["conversation"],
            "Tell me a long story about the stars and the moon, please.",
        )
        event = (await agen.__anext__())["conversationEvents"]
        while event["__typename"] != "AudioChunk":
            event = (await agen.__anext__())["conversationEvents"]
        started = time.perf_counter()
        await asyncio.to_thread(
            ok,
            server,
            "mutation($m: ID!) { interruptReply(messageId: $m, heardUntilMs: 300) { status } }",
            {"m": event["messageId"]},
            world["token"],
        )
        answered = (time.perf_counter() - started) * 1000
        while event["__typename"] not in TERMINAL:
            event = (await agen.__anext__())["conversationEvents"]
        delivered = (time.perf_counter() - started) * 1000
        await agen.aclose()
    return answered, delivered


async def run(server: LiveServer, rounds: int) -> None:
    answered, delivered = [], []
    for i in range(rounds):
        a, d = await one_round(server, i)
        answered.append(a)
        delivered.append(d)
    for label, values in (
        ("interruptReply answered", answered),
        ("ReplyInterrupted delivered", delivered),
    ):
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print(
            f"{label:28s} p50={statistics.median(values):6.1f} ms  p95={p95:6.1f} ms  "
            f"max={max(values):6.1f} ms  (target < 100 ms, {rounds} rounds)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        upgrade(url)
        with live_server(
            url, Path(tmp) / "storage", HOLOMATE_OFFLINE_LLM_WORD_DELAY_S="0.1"
        ) as server:
            asyncio.run(run(server, args.rounds))


if __name__ == "__main__":
    main()
