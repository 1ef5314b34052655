"""Replies survive faults: the producing process killed mid-reply, audio storage failing."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from gql import gql
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import RUN_NAMESPACE, broadcast_env
from tests.realtime.helpers import TERMINAL, live_cursor, ok, send, setup_conversation, ws_client
from tests.support.server import LiveServer, live_server

REDIS = os.environ.get("HOLOMATE_TEST_BROADCAST_URL", "redis://127.0.0.1:6379/0")
PROTOCOL = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
LONG = "Tell me a long story about comets, planets and the stars above us please."
FAULT_EVENTS = gql("""
subscription Events($id: ID!, $after: String) {
  conversationEvents(conversationId: $id, after: $after) {
    __typename
    ... on EventBase { messageId }
    ... on MessageDelta { text }
    ... on EmotionChanged { emotion }
    ... on ReplyDegraded { reason detail }
    ... on ReplyCompleted { message { text status } }
    ... on ReplyFailed { code detail retryable }
  }
}
""")
MESSAGES = """
query($c: ID!) { conversation(id: $c) { messages(last: 5) { nodes { id role status errorCode } } } }
"""


async def collect(agen: AsyncIterator[dict[str, Any]], until: set[str]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while not events or events[-1]["__typename"] not in until:
        events.append((await asyncio.wait_for(anext(agen), 30))["conversationEvents"])
    return events


@pytest.fixture
def two_servers(
    database_url: str, clean_db: None, tmp_path: Path
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Short leases, so the test waits about three seconds for the sweep, not eight (still
    long enough that a loaded machine's stalls do not cost a live process its leases)."""
    env = {
        "HOLOMATE_BROADCAST_URL": REDIS,
        "HOLOMATE_BROADCAST_NAMESPACE": RUN_NAMESPACE,
        "HOLOMATE_OFFLINE_LLM_WORD_DELAY_S": "0.1",
        "HOLOMATE_REPLY_HEARTBEAT_S": "0.5",
        "HOLOMATE_REPLY_LEASE_S": "2.5",
    }
    storage = tmp_path / "storage"
    with (
        live_server(database_url, storage, **env) as a,
        live_server(database_url, storage, **env) as b,
    ):
        yield a, b


@pytest.mark.redis
@pytest.mark.slow
async def test_a_reply_whose_server_is_killed_fails_retryably_for_a_subscriber_elsewhere(
    two_servers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = two_servers
    world = setup_conversation(b)
    cursor = live_cursor(b, world)
    async with ws_client(b, world["token"], PROTOCOL) as session:
        agen = session.subscribe(
            FAULT_EVENTS, variable_values={"id": world["conversation"], "after": cursor}
        )
        await asyncio.to_thread(send, a, world["token"], world["conversation"], LONG)
        started = await collect(agen, {"MessageDelta", *TERMINAL})
        assert started[-1]["__typename"] == "MessageDelta", started
        os.kill(a.pid, signal.SIGKILL)  # the process producing the reply, mid-sentence
        rest = await collect(agen, TERMINAL)
        await agen.aclose()
    failed = rest[-1]
    assert failed["__typename"] == "ReplyFailed", rest
    assert failed["code"] == "REPLY_OWNER_LOST" and failed["retryable"] is True
    assert failed["messageId"] == started[-1]["messageId"]
    nodes = ok(b, MESSAGES, {"c": world["conversation"]}, world["token"])["conversation"]
    reply = [m for m in nodes["messages"]["nodes"] if m["id"] == failed["messageId"]]
    assert reply == [
        {
            "id": failed["messageId"],
            "role": "COMPANION",
            "status": "FAILED",
            "errorCode": "REPLY_OWNER_LOST",
        }
    ]


@pytest.fixture
def server_without_storage(
    database_url: str, clean_db: None, tmp_path: Path
) -> Iterator[LiveServer]:
    """Audio storage that refuses every write: its directory is a file (tests run as root,
    so a read-only chmod would not stop them)."""
    blocker = tmp_path / "storage-is-a-file"
    blocker.write_text("not a directory")
    env = {**broadcast_env(), "HOLOMATE_STORAGE_DIR": str(blocker)}
    with live_server(database_url, tmp_path / "storage", **env) as running:
        yield running


async def test_a_storage_failure_degrades_the_reply_to_text_and_says_so_once(
    server_without_storage: LiveServer,
) -> None:
    server = server_without_storage
    world = setup_conversation(server)
    cursor = live_cursor(server, world)
    async with ws_client(server, world["token"], PROTOCOL) as session:
        agen = session.subscribe(
            FAULT_EVENTS, variable_values={"id": world["conversation"], "after": cursor}
        )
        text = "Hello! I am so happy today. Tell me about the stars."
        await asyncio.to_thread(send, server, world["token"], world["conversation"], text)
        events = await collect(agen, TERMINAL)
        await agen.aclose()
    kinds = [e["__typename"] for e in events]
    degraded = [e for e in events if e["__typename"] == "ReplyDegraded"]
    assert [d["reason"] for d in degraded] == ["AUDIO_STORAGE_FAILED"]
    assert "AudioChunk" not in kinds and "VisemeFrames" not in kinds
    assert "MessageDelta" in kinds and "EmotionChanged" in kinds
    completed = events[-1]
    assert completed["__typename"] == "ReplyCompleted", events
    deltas = "".join(e["text"] for e in events if e["__typename"] == "MessageDelta")
    assert completed["message"] == {"text": deltas, "status": "COMPLETE"} and deltas
