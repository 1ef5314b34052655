"""Two server processes behind one Redis: every event reaches every subscriber."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import RUN_NAMESPACE
from tests.realtime.helpers import EVENTS, TERMINAL, ok, send, setup_conversation, ws_client
from tests.support.server import LiveServer, live_server

REDIS = os.environ.get("HOLOMATE_TEST_BROADCAST_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def two_servers(
    database_url: str, clean_db: None, tmp_path: Path
) -> Iterator[tuple[LiveServer, LiveServer]]:
    storage = tmp_path / "storage"  # one shared disk, as with shared object storage
    slow = {
        "HOLOMATE_BROADCAST_URL": REDIS,
        "HOLOMATE_OFFLINE_LLM_WORD_DELAY_S": "0.08",
        "HOLOMATE_BROADCAST_NAMESPACE": RUN_NAMESPACE,
    }
    with (
        live_server(database_url, storage, **slow) as a,
        live_server(database_url, storage, **slow) as b,
    ):
        yield a, b


async def test_a_reply_made_on_one_process_reaches_a_subscriber_on_the_other(
    two_servers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = two_servers
    world = setup_conversation(a)
    events: list[dict[str, Any]] = []
    async with ws_client(a, world["token"], WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL) as session:
        agen = session.subscribe(EVENTS, variable_values={"id": world["conversation"]})
        first = asyncio.ensure_future(agen.__anext__())
        await asyncio.sleep(0.5)
        await asyncio.to_thread(send, b, world["token"], world["conversation"], "Hi from B!")
        event = (await asyncio.wait_for(first, 30))["conversationEvents"]
        events.append(event)
        while event["__typename"] not in TERMINAL:
            event = (await asyncio.wait_for(agen.__anext__(), 30))["conversationEvents"]
            events.append(event)
        await agen.aclose()
    kinds = [e["__typename"] for e in events]
    assert kinds[0] == "MessagePosted" and kinds[-1] == "ReplyCompleted"
    assert "AudioChunk" in kinds and "MessageDelta" in kinds


async def test_an_interrupt_sent_to_one_process_stops_a_reply_running_on_the_other(
    two_servers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = two_servers
    world = setup_conversation(a)
    async with ws_client(a, world["token"], WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL) as session:
        agen = session.subscribe(EVENTS, variable_values={"id": world["conversation"]})
        first = asyncio.ensure_future(agen.__anext__())
        await asyncio.sleep(0.5)
        await asyncio.to_thread(
            send,
            b,
            world["token"],
            world["conversation"],
            "Tell me a long story about comets please.",
        )
        event = (await asyncio.wait_for(first, 30))["conversationEvents"]
        while event["__typename"] != "MessageDelta":
            event = (await asyncio.wait_for(agen.__anext__(), 30))["conversationEvents"]
        started = time.perf_counter()
        answer = await asyncio.to_thread(
            ok,
            a,
            "mutation($m: ID!) { interruptReply(messageId: $m, heardUntilMs: 0) { status text } }",
            {"m": event["messageId"]},
            world["token"],
        )
        elapsed_ms = (time.perf_counter() - started) * 1000
        while event["__typename"] not in TERMINAL:
            event = (await asyncio.wait_for(agen.__anext__(), 30))["conversationEvents"]
        await agen.aclose()
    print(f"\ncross-process interrupt answered in {elapsed_ms:.1f} ms")
    assert answer["interruptReply"]["status"] == "INTERRUPTED"
    assert event["__typename"] == "ReplyInterrupted"
