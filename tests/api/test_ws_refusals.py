"""The server's own closes read the same on both protocols: a refused ``connection_init`` closes
4403 (on the legacy protocol after a ``connection_error`` carrying the error's code), a null
init payload is no payload, and ending a session closes its sockets the way the protocol code
does (one log line, the legacy ``connection_error``), even when the protocol closed it first.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from api.app import create_app
from api.ws_handlers import ADAPTER, LeanWebSocketAdapter
from api.ws_protocol import BAD_REQUEST
from context.state import AppState
from services.auth.revocations import Ended
from tests.api.test_ws_protocol_violations import (
    LEGACY,
    TRANSPORT,
    closed_with,
    no_traceback,
    operation,
    send_frame,
    send_then_end,
    settings_for,
)

REGISTER = """
mutation($e: String!) {
  register(email: $e, password: "correct horse", displayName: "Ada") {
    accessToken refreshToken
  }
}
"""
LOGOUT = "mutation($t: String!) { logout(refreshToken: $t) }"
VIOLATION = "Message is expected to be an object, but got number"


class Sockets:
    """The app, remembering each WebSocket's scope: the test reaches a socket's adapter."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            self.scopes.append(scope)
        await self.app(scope, receive, send)

    def last_adapter(self) -> LeanWebSocketAdapter:
        adapter: LeanWebSocketAdapter = self.scopes[-1][ADAPTER]
        return adapter


@pytest.fixture(scope="module")
def sockets(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Sockets:
    settings = settings_for(
        database_url,
        tmp_path_factory.mktemp("refusals") / "storage",
        password_time_cost=1,
        password_memory_kib=8 * 1024,
    )
    return Sockets(create_app(settings))


@pytest.fixture(scope="module")
def client(sockets: Sockets) -> Iterator[TestClient]:
    with TestClient(sockets) as running:
        yield running


def state(client: TestClient) -> AppState:
    holo: AppState = client.app.app.state.holo  # type: ignore[attr-defined]
    return holo


def sign_up(client: TestClient, tmp_path: Path) -> dict[str, str]:
    email = f"ada-{tmp_path.name[-20:].lower()}@example.com".replace("_", "-")
    body = client.post("/graphql", json={"query": REGISTER, "variables": {"e": email}}).json()
    assert "errors" not in body, body
    tokens: dict[str, str] = body["data"]["register"]
    return tokens


def connect(client: TestClient, protocol: str, token: str) -> Any:
    ws = client.websocket_connect("/graphql", subprotocols=[protocol]).__enter__()
    ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    assert ws.receive_json()["type"] == "connection_ack"
    return ws


def ws_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "holomate.ws"]


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
def test_a_refused_token_closes_4403_on_both_protocols(
    client: TestClient, caplog: pytest.LogCaptureFixture, protocol: str
) -> None:
    caplog.set_level(logging.INFO, logger="holomate.ws")
    expired = state(client).policy.codec.issue("access", 1, 0, -60, 1, "gone")
    refusals = {
        "not-a-token": ("Invalid token", "TOKEN_INVALID"),
        expired: ("Token expired", "TOKEN_EXPIRED"),
    }
    for token, (message, reason) in refusals.items():
        with client.websocket_connect("/graphql", subprotocols=[protocol]) as ws:
            init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            send_then_end(ws, protocol, init)
            code, why, said = closed_with(ws)
        assert (code, why) == (4403, "Forbidden")  # Strawberry's legacy handler: 1011
        if protocol == LEGACY:  # what its clients read: the error's message and code
            error = {"message": message, "code": "UNAUTHENTICATED", "reason": reason}
            assert said == [{"type": "connection_error", "payload": error}]
        else:
            assert said == []  # this protocol says it in the close alone
    lines = ws_lines(caplog)  # one per socket
    assert len(lines) == 2 and all(line.endswith("closed 4403: Forbidden") for line in lines)
    no_traceback(caplog)


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
def test_a_null_init_payload_is_no_payload(client: TestClient, protocol: str) -> None:
    with client.websocket_connect("/graphql", subprotocols=[protocol]) as ws:
        ws.send_json({"type": "connection_init", "payload": None})  # Strawberry's: 4400
        assert ws.receive_json()["type"] == "connection_ack"
        send_frame(ws, operation(protocol))  # needs a viewer: this socket has none
        answer = next(m for m in iter(ws.receive_json, None) if m["type"] != "ka")
        assert answer["id"] == "1" and '"code": "UNAUTHENTICATED"' in json.dumps(answer), answer


def test_ending_a_session_closes_its_sockets_as_the_protocol_code_does(
    client: TestClient, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO, logger="holomate.ws")
    tokens = sign_up(client, tmp_path)
    transport = connect(client, TRANSPORT, tokens["accessToken"])
    legacy = connect(client, LEGACY, tokens["accessToken"])
    logout = {"query": LOGOUT, "variables": {"t": tokens["refreshToken"]}}
    assert client.post("/graphql", json=logout).json() == {"data": {"logout": True}}
    assert closed_with(transport) == (4401, "Session ended", [])
    said = [{"type": "connection_error", "payload": {"message": "Session ended"}}]
    assert closed_with(legacy) == (4401, "Session ended", said)  # was: no connection_error
    for ws in (transport, legacy):
        ws.__exit__(None, None, None)
    lines = ws_lines(caplog)  # was: none (the socket was closed around the adapter)
    assert len(lines) == 2 and all(line.endswith("closed 4401: Session ended") for line in lines)
    no_traceback(caplog)


@pytest.mark.parametrize("first", ["protocol", "session"])
def test_a_session_ending_as_the_protocol_closes_its_socket_closes_it_once(
    client: TestClient,
    sockets: Sockets,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    first: str,
) -> None:
    """Both in one step of the server's loop: the socket is still tracked, whichever is first."""
    caplog.set_level(logging.INFO, logger="holomate.ws")
    tokens = sign_up(client, tmp_path)
    ws = connect(client, LEGACY, tokens["accessToken"])
    adapter = sockets.last_adapter()
    revocations = state(client).policy.revocations
    session = state(client).policy.codec.decode(tokens["accessToken"]).session_id
    ended = Ended(session_ids=frozenset({session}))

    async def both() -> None:
        if first == "protocol":
            await adapter.refuse(BAD_REQUEST, VIOLATION)
            await revocations.end(ended, record=False)
        else:
            await revocations.end(ended, record=False)
            await adapter.refuse(BAD_REQUEST, VIOLATION)

    assert client.portal is not None
    client.portal.call(both)
    code, reason, said = closed_with(ws)
    ws.__exit__(None, None, None)
    expected = (BAD_REQUEST, VIOLATION) if first == "protocol" else (4401, "Session ended")
    assert (code, reason) == expected
    assert said == [{"type": "connection_error", "payload": {"message": reason}}]
    assert len(ws_lines(caplog)) == 1 and ws_lines(caplog)[0].endswith(f"closed {code}: {reason}")
    no_traceback(caplog)
