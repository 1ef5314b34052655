"""The legacy ``graphql-ws`` protocol runs queries and mutations as subscriptions-transport-ws
servers did (one ``data``, then ``complete``; the socket stays open), and the server's own
closes from inside a subscription (a person's or a device's token expiring) read as the protocol
code's: a ``connection_error`` first, and one log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import DEFAULT_SECRET
from services.auth.tokens import TokenCodec
from tests.api.test_ws_protocol_violations import LEGACY, closed_with, no_traceback, settings_for
from tests.api.test_ws_refusals import sign_up, ws_lines
from tests.devices.helpers import pair_live
from tests.realtime.helpers import setup_conversation
from tests.support.server import LiveServer

COMPANION = 'mutation { createCompanion(input: {name: "Vega", persona: "A sailor"}) { %s } }'
START = "mutation($c: ID!) { startConversation(companionId: $c) { id } }"
HOLOGRAM = "subscription { hologramEvents { __typename } }"
EVENTS = "subscription($id: ID!) { conversationEvents(conversationId: $id) { __typename } }"


@pytest.fixture(scope="module")
def client(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = settings_for(
        database_url,
        tmp_path_factory.mktemp("legacy") / "storage",
        password_time_cost=1,
        password_memory_kib=8 * 1024,
    )
    with TestClient(create_app(settings)) as running:
        yield running


async def answers(ws: websockets.ClientConnection, id_: str) -> list[dict[str, Any]]:
    """The messages for operation ``id_`` until its ``complete`` (keep-alives aside)."""
    said: list[dict[str, Any]] = []
    while not said or said[-1]["type"] not in ("complete", "error"):
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if message["type"] != "ka":
            assert message.get("id") == id_, message
            said.append(message)
    return said


async def test_queries_and_mutations_run_over_the_legacy_protocol(server: LiveServer) -> None:
    world = setup_conversation(server)
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {world['token']}"}}
    async with websockets.connect(server.ws_url, subprotocols=[LEGACY]) as ws:
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        operations = {
            "1": ("{ __typename }", {"__typename": "Query"}),
            "2": (COMPANION % "name", {"createCompanion": {"name": "Vega"}}),
            "3": ("{ __typename }", {"__typename": "Query"}),  # the socket is still open
        }
        for id_, (query, data) in operations.items():
            await ws.send(json.dumps({"type": "start", "id": id_, "payload": {"query": query}}))
            said = await answers(ws, id_)
            # Was: an error message, INTERNAL_SERVER_ERROR (Strawberry's subscribe refuses them).
            assert said == [
                {"type": "data", "id": id_, "payload": {"data": data}},
                {"type": "complete", "id": id_},
            ]
        # A refused query answers its code, not a masked error.
        await ws.send(json.dumps({"type": "start", "id": "4", "payload": {"query": "{ nope }"}}))
        (error,) = await answers(ws, "4")
        assert error["type"] == "error" and "nope" in error["payload"]["message"], error
    # What an Apollo subscriptions-transport-ws client (gql's) sees: answers, not exceptions.
    transport = WebsocketsTransport(
        url=server.ws_url,
        subprotocols=[WebsocketsTransport.APOLLO_SUBPROTOCOL],
        init_payload={"authorization": f"Bearer {world['token']}"},
    )
    async with Client(transport=transport) as session:
        assert await session.execute(gql("{ __typename }")) == {"__typename": "Query"}
        created = await session.execute(gql(COMPANION % "name"))
        assert created == {"createCompanion": {"name": "Vega"}}
        me = await session.execute(gql("{ me { displayName } }"))
        assert me == {"me": {"displayName": "Ada"}}


def test_an_expiring_token_closes_the_legacy_socket_saying_why(
    client: TestClient, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO, logger="holomate.ws")
    tokens = sign_up(client, tmp_path)
    bearer = {"authorization": f"Bearer {tokens['accessToken']}"}

    def ok(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = {"query": query, "variables": variables or {}}
        answer: dict[str, Any] = client.post("/graphql", json=body, headers=bearer).json()
        assert "errors" not in answer, answer
        return answer["data"]

    companion = ok(COMPANION % "id")["createCompanion"]["id"]
    conversation = ok(START, {"c": companion})["startConversation"]["id"]
    codec = client.app.state.holo.policy.codec  # type: ignore[attr-defined]
    user = codec.decode(tokens["accessToken"]).user_id
    short = codec.issue("access", user, 0, 2, user)  # expires in 1 to 2 s
    with client.websocket_connect("/graphql", subprotocols=[LEGACY]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {short}"}})
        assert ws.receive_json()["type"] == "connection_ack"
        payload = {"query": EVENTS, "variables": {"id": conversation}}
        ws.send_json({"type": "start", "id": "1", "payload": payload})
        code, reason, said = closed_with(ws)
    assert (code, reason) == (4401, "Token expired")
    # Was: no connection_error, which is all these clients read (they ignore close codes).
    assert said == [{"type": "connection_error", "payload": {"message": "Token expired"}}]
    lines = ws_lines(caplog)  # was: none (the socket was closed around the adapter)
    assert len(lines) == 1 and lines[0].endswith("closed 4401: Token expired"), lines
    no_traceback(caplog)


async def test_an_expiring_device_token_closes_the_legacy_socket_saying_why(
    server: LiveServer,
) -> None:
    world = setup_conversation(server)
    paired = pair_live(server, world["token"])
    codec = TokenCodec(server.env.get("HOLOMATE_SECRET_KEY") or DEFAULT_SECRET)
    claims = codec.decode(paired["token"])
    short = codec.issue(  # expires in 1 to 2 s
        "device", claims.subject_id, claims.version, 2, claims.user_id, claims.session_id
    )
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {short}"}}
    said: list[dict[str, Any]] = []
    async with websockets.connect(server.ws_url, subprotocols=[LEGACY]) as ws:
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "start", "id": "h", "payload": {"query": HOLOGRAM}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if message["type"] != "ka":
                    said.append(message)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "Token expired")
    # Was: no connection_error, which is all these clients read, and no log line.
    assert said == [{"type": "connection_error", "payload": {"message": "Token expired"}}]
    assert server.log is not None
    assert server.log.read_text().count("closed 4401: Token expired") == 1
