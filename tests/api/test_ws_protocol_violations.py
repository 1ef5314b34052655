"""A client that breaks the WebSocket protocol loses its own socket, with a code and a reason.

On both protocols a malformed message closes 4400, a frame over the size limit 1009 (before the
server reads it, when ``holomate serve`` runs it), a socket with no ``connection_init`` 4408.
The server logs one line for it, never a traceback, and every other socket goes on.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
import struct
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import websockets
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.conftest import broadcast_env
from tests.realtime.helpers import EVENTS, send, setup_conversation, ws_client
from tests.support.server import (
    ROOT,
    LiveServer,
    default_setting,
    free_port,
    live_server,
    stop_process,
    wait_until_serving,
)

TRANSPORT = "graphql-transport-ws"
LEGACY = "graphql-ws"
QUERY = "subscription { deviceStatusChanged { __typename } }"  # anonymous: refused at once
LIMIT = default_setting("max_ws_frame_bytes")  # 64 KiB
LIVE = "subscription($id: ID!) { conversationEvents(conversationId: $id) { __typename } }"


def operation(protocol: str, **fields: Any) -> dict[str, Any]:
    """A well-formed subscribe (``start`` on the legacy protocol), with ``fields`` replaced."""
    kind = "subscribe" if protocol == TRANSPORT else "start"
    return {"type": kind, "id": "1", "payload": {"query": QUERY}, **fields}


def malformed(protocol: str) -> dict[str, str | bytes | dict[str, Any]]:
    """Every kind of bad frame, by what is wrong with it."""
    end = "complete" if protocol == TRANSPORT else "stop"
    return {
        "a number": "42",
        "a list": '[{"type": "connection_init"}]',
        "a string": '"subscribe"',
        "null": "null",
        "no type": {"id": "1"},
        "a type that is not a string": {"type": ["subscribe"]},
        "a type of the other protocol": {"type": "start" if protocol == TRANSPORT else "subscribe"},
        "a type only servers send": {"type": "next" if protocol == TRANSPORT else "data"},
        "an id that is an object": operation(protocol, id={"op": 1}),
        "an id that is a number": operation(protocol, id=7),
        "no id": {"type": operation(protocol)["type"], "payload": {"query": QUERY}},
        "a payload that is a string": operation(protocol, payload=QUERY),
        "a payload that is a list": operation(protocol, payload=[QUERY]),
        "a query that is not a string": operation(protocol, payload={"query": {"q": QUERY}}),
        "no query": operation(protocol, payload={"variables": {}}),
        "variables that are a list": operation(
            protocol, payload={"query": QUERY, "variables": [1]}
        ),
        "an operationName that is a number": operation(
            protocol, payload={"query": QUERY, "operationName": 1}
        ),
        "an init payload that is a string": {"type": "connection_init", "payload": "Bearer x"},
        "an end with a list id": {"type": end, "id": ["1"]},
        "not JSON": "{this is not json",
        "JSON nested 30,000 deep": "[" * 30_000 + "]" * 30_000,
        "a number of 5,000 digits": "1" * 5_000,
        "a binary frame": b'{"type": "ping"}',
    }


def settings_for(database_url: str, storage: Path, **changes: Any) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        migrate_on_start=False,
        storage_dir=storage,
        rate_limit_ws_connect="",  # this module opens a socket per bad frame
        **changes,
    )


@pytest.fixture(scope="module")
def client(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = settings_for(database_url, tmp_path_factory.mktemp("ws") / "storage")
    with TestClient(create_app(settings)) as running:
        yield running


def initialise(ws: Any) -> None:
    ws.send_json({"type": "connection_init", "payload": {}})
    assert ws.receive_json()["type"] == "connection_ack"


def send_frame(ws: Any, frame: str | bytes | dict[str, Any]) -> None:
    if isinstance(frame, bytes):
        ws.send_bytes(frame)
    else:
        ws.send_text(frame if isinstance(frame, str) else json.dumps(frame))


def send_then_end(ws: Any, protocol: str, frame: str | bytes | dict[str, Any]) -> None:
    """``frame``, then one that ends the socket with another code: a server that let ``frame``
    pass fails the test instead of hanging it."""
    send_frame(ws, frame)
    end = {"type": "connection_terminate"}  # legacy: closes 1000
    ws.send_json(end if protocol == LEGACY else {"type": "connection_init"})  # 4429


def closed_with(ws: Any) -> tuple[int, str, list[dict[str, Any]]]:
    """The close code and reason, and the messages that came before them (keep-alives aside)."""
    said = []
    while (message := ws.receive())["type"] == "websocket.send":
        if (body := json.loads(message["text"]))["type"] != "ka":
            said.append(body)
    assert message["type"] == "websocket.close"
    return message["code"], message.get("reason") or "", said


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not loud, [r.getMessage() for r in loud]


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
def test_every_malformed_frame_closes_its_socket_4400_with_a_reason(
    client: TestClient, caplog: pytest.LogCaptureFixture, protocol: str
) -> None:
    caplog.set_level(logging.INFO)
    with client.websocket_connect("/graphql", subprotocols=[TRANSPORT]) as bystander:
        initialise(bystander)
        for what, frame in malformed(protocol).items():
            with client.websocket_connect("/graphql", subprotocols=[protocol]) as ws:
                initialise(ws)
                send_then_end(ws, protocol, frame)
                code, reason, said = closed_with(ws)
            assert code == 4400 and reason, what
            if protocol == LEGACY:  # its clients read a connection_error, not the close reason
                assert said == [{"type": "connection_error", "payload": {"message": reason}}]
        bystander.send_json({"type": "ping"})
        assert bystander.receive_json() == {"type": "pong"}
    no_traceback(caplog)
    lines = [r for r in caplog.records if r.name == "holomate.ws"]
    assert len(lines) == len(malformed(protocol))  # one line per closed socket


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
def test_a_frame_over_the_limit_closes_1009_before_it_is_parsed(
    client: TestClient, caplog: pytest.LogCaptureFixture, protocol: str
) -> None:
    # Parsed, 5 MB of "[" would close 4400 (too deep): 1009 says it never was.
    for frame in ("[" * 5_000_000, b"\0" * 5_000_000, "é" * (LIMIT // 2 + 1)):
        with client.websocket_connect("/graphql", subprotocols=[protocol]) as ws:
            initialise(ws)
            send_then_end(ws, protocol, frame)
            code, reason, _ = closed_with(ws)
        assert (code, reason) == (1009, f"Message too big (limit {LIMIT} bytes)")
    with client.websocket_connect("/graphql", subprotocols=[protocol]) as ws:
        initialise(ws)  # a frame at the limit passes
        padding = "x" * (LIMIT - len(json.dumps(operation(protocol, id=""))))
        send_frame(ws, operation(protocol, id=padding))
        answer = next(m for m in iter(ws.receive_json, None) if m["type"] != "ka")
        assert answer["id"] == padding
    no_traceback(caplog)


def test_the_legacy_protocol_refuses_what_comes_before_connection_init(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    for first in (operation(LEGACY), {"type": "stop", "id": "1"}):
        with client.websocket_connect("/graphql", subprotocols=[LEGACY]) as ws:
            send_then_end(ws, LEGACY, first)
            code, reason, _ = closed_with(ws)
        assert (code, reason) == (4401, "Unauthorized")
    with client.websocket_connect("/graphql", subprotocols=[LEGACY]) as ws:
        initialise(ws)
        send_then_end(ws, LEGACY, {"type": "connection_init", "payload": {}})
        assert closed_with(ws)[:2] == (4429, "Too many initialisation requests")
    no_traceback(caplog)


# --- Real servers: the frame limit however the app is run, and the sockets nearby.


def server_log(server: LiveServer) -> str:
    assert server.log is not None
    return server.log.read_text(errors="replace")


def assert_quiet(log: str) -> None:
    assert "Traceback" not in log and "ERROR" not in log, log[-3000:]


async def closed_by_server(ws: websockets.ClientConnection) -> tuple[int, str]:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_a_subscriber_keeps_streaming_while_other_sockets_break_the_protocol(
    server: LiveServer,
) -> None:
    world = setup_conversation(server)
    async with ws_client(server, world["token"], TRANSPORT) as healthy:
        events = healthy.subscribe(EVENTS, variable_values={"id": world["conversation"]})
        first = asyncio.ensure_future(events.__anext__())
        for protocol in (TRANSPORT, LEGACY):
            for frame in (operation(protocol, id={"op": 1}), operation(protocol, payload=QUERY)):
                async with websockets.connect(server.ws_url, subprotocols=[protocol]) as bad:
                    await bad.send(json.dumps({"type": "connection_init", "payload": {}}))
                    assert json.loads(await bad.recv())["type"] == "connection_ack"
                    await bad.send(json.dumps(frame))
                    code, reason = await closed_by_server(bad)
                assert code == 4400 and reason
        # The same long id twice: Strawberry closes 4409 naming it, cut to fit a close frame
        # (a longer reason makes the server's close itself fail).
        long_id = "x" * 200
        async with websockets.connect(server.ws_url, subprotocols=[TRANSPORT]) as twice:
            init = {"authorization": f"Bearer {world['token']}"}
            await twice.send(json.dumps({"type": "connection_init", "payload": init}))
            assert json.loads(await twice.recv())["type"] == "connection_ack"
            query = {"query": LIVE, "variables": {"id": world["conversation"]}}
            for _ in range(2):
                await twice.send(json.dumps(operation(TRANSPORT, id=long_id, payload=query)))
            code, reason = await closed_by_server(twice)
        assert code == 4409 and reason.startswith("Subscriber for xxx")
        assert len(reason.encode()) <= 123
        await asyncio.to_thread(send, server, world["token"], world["conversation"], "Still there?")
        event = (await asyncio.wait_for(first, 30))["conversationEvents"]
        assert event["__typename"] == "MessagePosted"
        await events.aclose()
    assert_quiet(server_log(server))


@pytest.fixture(scope="module")
def bare_uvicorn(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """``uvicorn api.asgi:app`` with no --ws-max-size (it reads frames up to 16 MiB), and a
    short connection_init wait."""
    storage = tmp_path_factory.mktemp("bare") / "storage"
    quick = {"HOLOMATE_WS_CONNECTION_INIT_TIMEOUT_S": "0.3", **broadcast_env()}
    with live_server(database_url, storage, server_limits_frames=False, **quick) as running:
        yield running


async def test_a_socket_that_never_initialises_is_closed_4408_on_both_protocols(
    bare_uvicorn: LiveServer,
) -> None:
    for protocol in (TRANSPORT, LEGACY):
        async with websockets.connect(bare_uvicorn.ws_url, subprotocols=[protocol]) as idle:
            said = [json.loads(m) async for m in until_closed(idle)]
        assert idle.close_code == 4408
        assert idle.close_reason == "Connection initialisation timeout"
        if protocol == LEGACY:  # what its clients read
            error = {"type": "connection_error", "payload": {"message": idle.close_reason}}
            assert said == [error]
    assert_quiet(server_log(bare_uvicorn))


async def until_closed(ws: websockets.ClientConnection) -> AsyncIterator[str | bytes]:
    """What the server sends until it closes (waiting at most 10 s for each message)."""
    try:
        while True:
            yield await asyncio.wait_for(ws.recv(), 10)
    except websockets.ConnectionClosed:
        return


def open_raw_socket(port: int) -> socket.socket:
    """A WebSocket handshake by hand, so a frame can be sent in part."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: {TRANSPORT}\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


def close_code_of(sock: socket.socket) -> int:
    """The code of the close frame the server sends (unmasked, short: no other frame comes)."""
    data = b""
    while len(data) < 4:
        chunk = sock.recv(4096)
        assert chunk, "the server hung up without a close frame"
        data += chunk
    assert data[0] & 0x0F == 0x8, data
    code: int = struct.unpack("!H", data[2:4])[0]
    return code


@contextmanager
def holomate_serve(database_url: str, storage: Path) -> Iterator[int]:
    """The server as an operator starts it: ``holomate serve``."""
    port = free_port()
    env = {
        **os.environ,
        **broadcast_env(),
        "HOLOMATE_ENV": "test",
        "HOLOMATE_DATABASE_URL": database_url,
        "HOLOMATE_STORAGE_DIR": str(storage),
        "HOLOMATE_MIGRATE_ON_START": "false",
    }
    log = storage.parent / f"serve-{port}.log"
    storage.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-c", "from api.cli import main; main()", "serve"]
    with open(log, "wb") as out, ExitStack() as stack:
        proc = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        stack.callback(stop_process, proc)
        wait_until_serving(f"http://127.0.0.1:{port}/readyz", proc, log)
        yield port


def test_holomate_serve_refuses_a_5_mb_frame_without_reading_it(
    database_url: str, clean_db: None, tmp_path: Path
) -> None:
    with holomate_serve(database_url, tmp_path / "storage") as port:
        with open_raw_socket(port) as sock:
            # A 5 MB text frame's header and its first 4 KiB; the rest is never sent. The
            # server answers anyway: it refused the frame from its header.
            mask = os.urandom(4)
            sock.sendall(bytes([0x81, 0x80 | 127]) + struct.pack("!Q", 5_000_000) + mask)
            sock.sendall(bytes(b ^ mask[i % 4] for i, b in enumerate(b"[" * 4096)))
            assert close_code_of(sock) == 1009


async def test_a_server_started_without_the_limit_still_closes_1009(
    bare_uvicorn: LiveServer,
) -> None:
    """The app refuses what the server let through, before parsing it."""
    url = bare_uvicorn.ws_url
    async with websockets.connect(url, subprotocols=[LEGACY], max_size=None) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send("[" * 5_000_000)
        assert await closed_by_server(ws) == (1009, f"Message too big (limit {LIMIT} bytes)")
    assert_quiet(server_log(bare_uvicorn))
