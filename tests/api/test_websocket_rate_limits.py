"""WebSocket rate limits, on a real server and both protocols: a handshake over the client IP's
budget is refused with HTTP 429 and Retry-After; an operation over its socket's budget gets an
error for that id with RATE_LIMITED, and the socket goes on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.conftest import broadcast_env
from tests.support.server import LiveServer, live_server

PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]


@pytest.fixture(scope="module")
def limited_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One server for the module: each test comes from addresses of its own."""
    with live_server(
        database_url,
        tmp_path_factory.mktemp("ws-limits") / "storage",
        HOLOMATE_TRUSTED_PROXIES='["127.0.0.1"]',
        HOLOMATE_RATE_LIMIT_WS_CONNECT="2/minute",
        HOLOMATE_RATE_LIMIT_WS_OPERATIONS="2/minute",
        **broadcast_env(),
    ) as running:
        yield running


def connect(server: LiveServer, protocol: str, ip: str) -> Any:
    return websockets.connect(
        server.ws_url,
        subprotocols=[protocol],  # type: ignore[list-item]
        additional_headers={"x-forwarded-for": ip},
    )


async def receive(ws: ClientConnection) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await ws.recv())
        if message["type"] not in ("ka", "ping"):  # keep-alives
            return message


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_handshakes_over_the_ip_budget_are_refused_with_429(
    limited_server: LiveServer, protocol: str
) -> None:
    ip = "203.0.113.1" if protocol == PROTOCOLS[0] else "203.0.113.2"
    for _ in range(2):
        async with connect(limited_server, protocol, ip):
            pass
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(limited_server, protocol, ip):
            pass
    response = refused.value.response
    assert response.status_code == 429
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    [error] = json.loads(response.body)["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": retry_after}
    async with connect(limited_server, protocol, "203.0.113.3"):  # another client is welcome
        pass


async def test_operations_over_the_socket_budget_get_an_error_graphql_transport_ws(
    limited_server: LiveServer,
) -> None:
    async with connect(limited_server, "graphql-transport-ws", "203.0.113.11") as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await receive(ws))["type"] == "connection_ack"
        for n in ("1", "2"):
            subscribe = {"type": "subscribe", "id": n, "payload": {"query": "{ __typename }"}}
            await ws.send(json.dumps(subscribe))
            assert (await receive(ws))["type"] == "next"
            assert (await receive(ws)) == {"id": n, "type": "complete"}
        subscribe = {"type": "subscribe", "id": "3", "payload": {"query": "{ __typename }"}}
        await ws.send(json.dumps(subscribe))
        refused = await receive(ws)
        assert refused["type"] == "error" and refused["id"] == "3"
        [error] = refused["payload"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert 1 <= error["extensions"]["retryAfter"] <= 60
        await ws.send(json.dumps({"type": "ping"}))  # the socket is still open and answering
        assert json.loads(await ws.recv())["type"] == "pong"


async def test_operations_over_the_socket_budget_get_an_error_graphql_ws(
    limited_server: LiveServer,
) -> None:
    async with connect(limited_server, "graphql-ws", "203.0.113.12") as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await receive(ws))["type"] == "connection_ack"
        for n in ("1", "2"):
            await ws.send(json.dumps(start(n)))
            answer = await first_for(ws, n)
            assert "RATE_LIMITED" not in json.dumps(answer)
            await ws.send(json.dumps({"type": "stop", "id": n}))
        for n in ("3", "4"):  # refused one by one, on a socket that stays open
            await ws.send(json.dumps(start(n)))
            refused = await first_for(ws, n)
            assert refused["type"] == "error"
            assert refused["payload"]["extensions"]["code"] == "RATE_LIMITED"
            assert 1 <= refused["payload"]["extensions"]["retryAfter"] <= 60
    # A new socket from the same client has a budget of its own.
    async with connect(limited_server, "graphql-ws", "203.0.113.12") as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await receive(ws))["type"] == "connection_ack"
        await ws.send(json.dumps(start("1")))
        assert "RATE_LIMITED" not in json.dumps(await first_for(ws, "1"))


def start(n: str) -> dict[str, Any]:
    query = 'subscription { devicePairing(deviceCode: "no-such-code") { status } }'
    return {"type": "start", "id": n, "payload": {"query": query}}


async def first_for(ws: ClientConnection, n: str) -> dict[str, Any]:
    while True:
        message = await receive(ws)
        if message.get("id") == n and message["type"] in ("data", "error"):
            return message
