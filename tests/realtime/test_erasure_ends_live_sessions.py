"""Deleting an account ends that person's live subscriptions at once, on every process."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.realtime.helpers import ok, setup_conversation
from tests.support.server import LiveServer


async def test_deleting_the_account_closes_its_open_sockets(server: LiveServer) -> None:
    world = setup_conversation(server)
    async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps(
                {
                    "type": "connection_init",
                    "payload": {"authorization": f"Bearer {world['token']}"},
                }
            )
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
        await asyncio.sleep(0.3)
        deleted = await asyncio.to_thread(
            ok,
            server,
            'mutation { deleteMyAccount(password: "correct horse") }',
            None,
            world["token"],
        )
        assert deleted["deleteMyAccount"] is True
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "Account deleted")
