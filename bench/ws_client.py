"""The benchmarks' client socket: one graphql-transport-ws connection, sans-I/O and cheap.

Thousands of them share a client process's event loop (bench/fanout.py, bench/load.py), so the
websockets protocol object is driven straight from an ``asyncio.Protocol``; a subclass says what
a text message means to its benchmark.
"""

from __future__ import annotations

import asyncio
import time

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri


class GraphQLWsClient(asyncio.Protocol):
    """Handshakes, sends ``init`` once upgraded, and hands each text message to
    :meth:`_on_message` with the time it was received."""

    def __init__(self, init: bytes, deflate: bool = False) -> None:
        self.ws = ClientProtocol(
            parse_uri("ws://placeholder/graphql"),
            subprotocols=[Subprotocol("graphql-transport-ws")],
            extensions=[ClientPerMessageDeflateFactory()] if deflate else None,
            max_size=None,
        )
        self.init = init
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.ws.send_request(self.ws.connect())
        self._flush()

    def _flush(self) -> None:
        assert self.transport is not None
        for data in self.ws.data_to_send():
            if data:
                self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Response):
                if event.status_code != 101:
                    self._fail(f"handshake {event.status_code}")
                    return
                self.ws.send_text(self.init)
                self._initialised()
            elif event.opcode is Opcode.TEXT:
                self._on_message(bytes(event.data), now)
        self._flush()

    def _initialised(self) -> None:
        """``connection_init`` was sent."""

    def _on_message(self, data: bytes, now: float) -> None:
        raise NotImplementedError

    def _fail(self, why: str) -> None:
        raise NotImplementedError
