"""What the app logs reaches the server's output: a masked error's ``requestId`` finds its line
(time, level, logger) and its traceback there, under ``uvicorn api.asgi:app`` as an operator
runs it; ``HOLOMATE_LOG_LEVEL`` sets how much the app says."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from tests.support.server import LiveServer, live_server

LOGIN = 'mutation { login(email: "ada@example.com", password: "x") { accessToken } }'
# 2026-11-29 13:40:02,123 ERROR holomate.errors: unexpected error in login (request 0f3c...)
LINE = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ERROR holomate\.errors: .*\(request RID\)$"


def server_output(server: LiveServer) -> str:
    assert server.log is not None
    return server.log.read_text(errors="replace")


@pytest.mark.parametrize("level", ["INFO", "ERROR"])
def test_a_masked_errors_request_id_finds_its_line_and_traceback_in_the_server_output(
    tmp_path: Path, level: str
) -> None:
    # A database of its own, broken for real under the running server: a table goes missing.
    database = tmp_path / "holomate.db"
    url = f"sqlite+aiosqlite:///{database}"
    env = {"HOLOMATE_MIGRATE_ON_START": "true", "HOLOMATE_LOG_LEVEL": level}
    with live_server(url, tmp_path / "storage", **env) as server:
        with sqlite3.connect(database) as db:
            db.execute("ALTER TABLE users RENAME TO users_away")
        body = httpx.post(server.graphql_url, json={"query": LOGIN}, timeout=30).json()
        error = body["errors"][0]
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR", body
        request_id = error["extensions"]["requestId"]
        # A socket the server closes for a bad frame: an INFO line, shown at INFO only.
        with connect(server.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            ws.send("not json")
            with pytest.raises(ConnectionClosed):
                ws.recv(10)
        output = server_output(server)
    lines = output.splitlines()
    at = next(
        (i for i, line in enumerate(lines) if re.match(LINE.replace("RID", request_id), line)), None
    )
    assert at is not None, output[-3000:]  # was: a bare message, no time, level or logger
    assert lines[at + 1] == "Traceback (most recent call last):", output[-3000:]
    assert any("no such table: users" in line for line in lines[at:]), output[-3000:]
    closed = re.search(r" INFO holomate\.ws: websocket \w+ closed 4400: ", output)
    assert (closed is not None) == (level == "INFO"), output[-3000:]
