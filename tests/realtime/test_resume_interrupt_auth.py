"""Resuming with a cursor, barge-in, and who may listen."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import websockets
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from tests.realtime.helpers import (
    EVENTS,
    TERMINAL,
    graphql,
    ok,
    send,
    setup_conversation,
    ws_client,
)
from tests.realtime.test_live_reply import subscribe_then_send
from tests.support.server import LiveServer

TRANSPORT_WS = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL


async def test_reconnecting_with_after_misses_nothing_and_repeats_nothing(
    server: LiveServer,
) -> None:
    world = setup_conversation(server)
    first = await subscribe_then_send(server, world, TRANSPORT_WS, "Tell me about Mars.")
    # Drop the socket part-way: remember where we were, and let a second reply happen offline.
    seen = first[: len(first) // 2]
    await asyncio.to_thread(send, server, world["token"], world["conversation"], "And Venus?")
    await asyncio.sleep(0.2)
    resumed: list[dict[str, Any]] = []
    completed = 0
    async with ws_client(server, world["token"], TRANSPORT_WS) as session:
        variables = {"id": world["conversation"], "after": seen[-1]["cursor"]}
        async for result in session.subscribe(EVENTS, variable_values=variables):
            event = result["conversationEvents"]
            resumed.append(event)
            completed += event["__typename"] in TERMINAL
            if completed == 2:
                break
    cursors = [e["cursor"] for e in seen + resumed]
    assert len(cursors) == len(set(cursors)), "no event twice"
    assert [e["cursor"] for e in resumed[: len(first) - len(seen)]] == [
        e["cursor"] for e in first[len(seen) :]
    ], "nothing missed, in order"
    assert resumed[len(first) - len(seen)]["__typename"] == "MessagePosted"


async def test_interrupting_mid_reply_keeps_what_was_heard(server: LiveServer) -> None:
    world = setup_conversation(server)
    events: list[dict[str, Any]] = []
    async with ws_client(server, world["token"], TRANSPORT_WS) as session:
        agen = session.subscribe(EVENTS, variable_values={"id": world["conversation"]})
        first = asyncio.ensure_future(agen.__anext__())
        await asyncio.sleep(0.5)
        await asyncio.to_thread(
            send,
            server,
            world["token"],
            world["conversation"],
            "Please tell me a long story about the stars and the moon.",
        )
        event = (await asyncio.wait_for(first, 30))["conversationEvents"]
        while event["__typename"] != "AudioChunk":
            events.append(event)
            event = (await asyncio.wait_for(agen.__anext__(), 30))["conversationEvents"]
        events.append(event)
        heard_until = event["durationMs"] // 2
        started = time.perf_counter()
        answer = await asyncio.to_thread(
            ok,
            server,
            "mutation($m: ID!, $ms: Int!) { interruptReply(messageId: $m, heardUntilMs: $ms) "
            "{ id text status } }",
            {"m": event["messageId"], "ms": heard_until},
            world["token"],
        )
        elapsed_ms = (time.perf_counter() - started) * 1000
        while event["__typename"] not in TERMINAL:
            event = (await asyncio.wait_for(agen.__anext__(), 30))["conversationEvents"]
            events.append(event)
        await agen.aclose()
    print(f"\ninterruptReply answered in {elapsed_ms:.1f} ms (reply stopped, message saved)")
    message = answer["interruptReply"]
    assert message["status"] == "INTERRUPTED"
    assert event["__typename"] == "ReplyInterrupted"
    first_chunk = next(e for e in events if e["__typename"] == "AudioChunk")
    assert event["heardText"] == message["text"]
    assert (
        first_chunk["text"].startswith(message["text"].rstrip(".!?, "))
        or message["text"] in first_chunk["text"]
    )
    assert 0 < len(message["text"]) < len(first_chunk["text"])
    # (How fast, in milliseconds, is measured by bench/interrupt_latency.py, not asserted here.)
    # The companion remembers the turn as the truncated text.
    history = ok(
        server,
        "query($c: ID!) { conversation(id: $c) { messages(last: 1) "
        "{ edges { node { text status } } } } }",
        {"c": world["conversation"]},
        world["token"],
    )
    last = history["conversation"]["messages"]["edges"][0]["node"]
    assert last == {"text": message["text"], "status": "INTERRUPTED"}


async def test_strangers_and_anonymous_sockets_cannot_listen(server: LiveServer) -> None:
    world = setup_conversation(server)
    stranger = setup_conversation(server, "eve@example.com")
    async with ws_client(server, stranger["token"], TRANSPORT_WS) as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(EVENTS, variable_values={"id": world["conversation"]}):
                pass
    assert refused.value.errors is not None
    assert refused.value.errors[0]["extensions"]["code"] == "NOT_FOUND"
    transport = WebsocketsTransport(url=server.ws_url, subprotocols=[TRANSPORT_WS])
    from gql import Client

    async with Client(transport=transport) as session:
        with pytest.raises(TransportQueryError) as anonymous:
            async for _ in session.subscribe(EVENTS, variable_values={"id": world["conversation"]}):
                pass
    assert anonymous.value.errors is not None
    assert anonymous.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_bad_token_is_refused_at_connection_init(server: LiveServer) -> None:
    async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer nonsense"}})
        )
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_a_broken_frame_closes_only_that_socket(server: LiveServer) -> None:
    world = setup_conversation(server)
    async with ws_client(server, world["token"], TRANSPORT_WS) as healthy:
        agen = healthy.subscribe(EVENTS, variable_values={"id": world["conversation"]})
        first = asyncio.ensure_future(agen.__anext__())
        await asyncio.sleep(0.3)
        async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as bad:
            await bad.send(
                json.dumps(
                    {
                        "type": "connection_init",
                        "payload": {"authorization": f"Bearer {world['token']}"},
                    }
                )
            )
            assert json.loads(await bad.recv())["type"] == "connection_ack"
            await bad.send("{this is not json")
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(bad.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400
        await asyncio.to_thread(send, server, world["token"], world["conversation"], "Still there?")
        event = (await asyncio.wait_for(first, 30))["conversationEvents"]
        assert event["__typename"] == "MessagePosted"
        await agen.aclose()


async def test_an_expiring_token_ends_the_subscription_with_a_clear_reason(
    server: LiveServer,
) -> None:
    from services.auth.tokens import TokenCodec

    world = setup_conversation(server)
    secret = (
        server.env.get("HOLOMATE_SECRET_KEY")
        or __import__("api.settings", fromlist=["DEFAULT_SECRET"]).DEFAULT_SECRET
    )
    user = graphql(server, "{ me { id } }", token=world["token"])["data"]["me"]["id"]
    pk = int(user.split("_")[1])
    short = TokenCodec(secret).issue("access", pk, 0, 2, pk)
    async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {short}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {
                        "query": "subscription($id: ID!) { conversationEvents(conversationId: $id) "
                        "{ __typename } }",
                        "variables": {"id": world["conversation"]},
                    },
                }
            )
        )
        started = time.monotonic()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "Token expired")
    assert time.monotonic() - started < 5
