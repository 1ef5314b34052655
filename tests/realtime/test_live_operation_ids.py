"""A live subscription's id stays taken while it streams, and the client's ``complete`` ends it.

Its resolver hands the stream to the socket and returns at once (Strawberry's own per-operation
state is let go); the operation is still the client's to end, and its id is not free for reuse
until it has ended, as graphql-transport-ws requires.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

from tests.realtime.helpers import live_cursor, send, setup_conversation
from tests.support.server import LiveServer

EVENTS = (
    "subscription($c: ID!, $a: String) "
    "{ conversationEvents(conversationId: $c, after: $a) { __typename } }"
)


def subscribe(world: dict[str, str], cursor: str, id: str = "1") -> str:
    variables = {"c": world["conversation"], "a": cursor}
    return json.dumps(
        {"type": "subscribe", "id": id, "payload": {"query": EVENTS, "variables": variables}}
    )


async def opened(server: LiveServer, token: str) -> Any:
    ws = await websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": token}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    return ws


async def test_a_second_subscribe_with_the_id_of_a_streaming_one_closes_4409(
    server: LiveServer,
) -> None:
    world = setup_conversation(server)
    ws = await opened(server, world["token"])
    await ws.send(subscribe(world, live_cursor(server, world)))
    await asyncio.sleep(0.3)  # its resolver has returned; the stream goes on
    await ws.send(subscribe(world, live_cursor(server, world)))
    await asyncio.wait_for(ws.wait_closed(), 10)
    assert ws.close_code == 4409


async def test_complete_ends_the_stream_and_frees_its_id(server: LiveServer) -> None:
    world = setup_conversation(server)
    cursor = live_cursor(server, world)
    ws = await opened(server, world["token"])
    await ws.send(subscribe(world, cursor))
    await asyncio.sleep(0.3)
    await ws.send(json.dumps({"type": "complete", "id": "1"}))
    await ws.send(subscribe(world, cursor))  # the same id, for a new stream
    await asyncio.to_thread(send, server, world["token"], world["conversation"], "Hi there")
    kinds: list[str] = []
    while not kinds or kinds[-1] != "ReplyCompleted":
        message = json.loads(await asyncio.wait_for(ws.recv(), 60))
        assert message["type"] == "next", message
        kinds.append(message["payload"]["data"]["conversationEvents"]["__typename"])
    await ws.close()
    assert kinds.count("MessagePosted") == 1, "the ended stream wrote nothing more"
