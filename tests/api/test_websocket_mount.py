"""GraphQL WebSockets answer behind a proxy path prefix too (ASGI ``root_path``)."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings


@pytest.mark.parametrize("root_path", ["", "/holomate"])
def test_a_socket_is_acknowledged_with_or_without_a_path_prefix(
    settings: Settings, clean_db: None, root_path: str
) -> None:
    with TestClient(create_app(settings), root_path=root_path) as client:
        with client.websocket_connect(
            f"{root_path}/graphql", subprotocols=["graphql-transport-ws"]
        ) as socket:
            socket.send_json({"type": "connection_init", "payload": {}})
            assert socket.receive_json()["type"] == "connection_ack"
            socket.send_json({"type": "ping"})
            assert socket.receive_json() == {"type": "pong"}
