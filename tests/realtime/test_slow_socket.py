"""A screen that stops reading (a phone on a bad network) still gets every event, in order.

Live events are written to sockets straight from the channel's pump. When one client stops
reading, its socket fills and the server's writes to it have to wait: its next events queue
behind that write while every other socket is served at once, and when it drains it gets the
rest, each once, in publication order.

The server side is real (hub, renderer, the WebSocket delivery); only the ASGI server's
``send`` is played here, as uvicorn's: it waits while the transport is paused. (Making a real
kernel socket fill takes megabytes: Linux lets ~3 MB sit in a loopback socket's buffers.)
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.applications import Starlette

from context.request import Context
from live.deliver import Outlet
from live.feed import LiveFeed, LiveOperation
from live.render import LiveRenderer
from pipeline.broadcast.direct import DirectDelivery
from pipeline.broadcast.log_base import LogEntry
from pipeline.events import MessageDelta
from schema.types.events import event_from_payload
from services.channels import conversation_channel
from services.events import logged
from services.identity import Viewer
from tests.broadcast.helpers import wait_until

DELTAS = (
    "subscription { conversationEvents(conversationId: 1) { ... on MessageDelta { seq text } } }"
)
PREFIX = '{"id":"1","type":"next","payload":'


class ClientSocket:
    """What the server's ``send`` does for one client: write, or wait while it is paused."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()
        self.seqs: list[int] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.writable.wait()
        event = json.loads(message["text"])["payload"]["data"]["conversationEvents"]
        self.seqs.append(event["seq"])


async def stream_to(
    app: Starlette, renderer: LiveRenderer, socket: ClientSocket, after: str
) -> asyncio.Task[None]:
    holo = app.state.holo
    viewer = Viewer(user_id=1, expires_at=0)
    direct = DirectDelivery()
    entries = holo.hub.subscribe(conversation_channel(1), after, direct)

    def event_for(entry: LogEntry) -> Any:
        return event_from_payload(entry.cursor, json.loads(entry.payload), str)

    async def close() -> None:
        await entries.aclose()

    feed = LiveFeed(
        conversation_channel(1), entries, lambda e: e, event_for, viewer, "http://t", close, direct
    )
    operation = LiveOperation.of(DELTAS, None, None)
    context = Context(app=holo, request=None, response=None, request_id="t", viewer=viewer)
    outlet = Outlet(renderer, operation, context, socket.send, PREFIX, lambda e: False)

    async def deliver() -> None:
        try:
            await outlet.deliver(feed)
        finally:
            await feed.close()

    return asyncio.create_task(deliver())


async def open_streams(
    app: Starlette, sockets: list[ClientSocket]
) -> tuple[LiveRenderer, list[asyncio.Task[None]]]:
    """Each socket streams the conversation from now on, through the app's renderer."""
    view = next(r.endpoint for r in app.routes if getattr(r, "path", None) == "/graphql")
    renderer: LiveRenderer = view.live_renderer
    hub = app.state.holo.hub
    start = await hub.tail(conversation_channel(1))
    subscribers = hub.stats().subscribers  # the app's own (its control channel)
    streams = [await stream_to(app, renderer, socket, start) for socket in sockets]
    await wait_until(lambda: hub.stats().subscribers == subscribers + len(sockets))
    return renderer, streams


async def publish(app: Starlette, seqs: range) -> None:
    for seq in seqs:
        payload = logged(1, 10, MessageDelta(seq, f"word {seq} "))
        await app.state.holo.hub.publish(conversation_channel(1), payload)


async def test_a_socket_that_stops_taking_writes_gets_every_event_once_in_order(
    app: Starlette,
) -> None:
    phone, tablet, hologram = ClientSocket(), ClientSocket(), ClientSocket()
    renderer, streams = await open_streams(app, [phone, tablet, hologram])
    renders, waited = renderer.renders, renderer.writes_waited

    await publish(app, range(3))
    await wait_until(lambda: len(phone.seqs) == len(tablet.seqs) == len(hologram.seqs) == 3)
    tablet.writable.clear()  # the tablet's network stalls
    await publish(app, range(3, 12))
    await wait_until(lambda: len(phone.seqs) == len(hologram.seqs) == 12)

    assert tablet.seqs == [0, 1, 2], "nothing reaches a stalled socket..."
    assert renderer.writes_waited == waited + 1, "...one write waits, the rest queue behind it"
    tablet.writable.set()
    await wait_until(lambda: len(tablet.seqs) == 12)
    await asyncio.sleep(0.05)

    assert phone.seqs == tablet.seqs == hologram.seqs == list(range(12))
    assert renderer.renders - renders == 12, "each event rendered once for all three"
    for stream in streams:
        stream.cancel()
    await asyncio.gather(*streams, return_exceptions=True)


async def test_an_operation_ended_while_its_write_waits_sends_nothing_more(
    app: Starlette,
) -> None:
    subscribers = app.state.holo.hub.stats().subscribers
    phone = ClientSocket()
    renderer, [stream] = await open_streams(app, [phone])
    waited = renderer.writes_waited

    await publish(app, range(2))
    await wait_until(lambda: len(phone.seqs) == 2)
    phone.writable.clear()
    await publish(app, range(2, 3))
    await wait_until(lambda: renderer.writes_waited == waited + 1)
    stream.cancel()  # the client sent "complete" for this operation
    await asyncio.gather(stream, return_exceptions=True)
    phone.writable.set()
    await asyncio.sleep(0.05)

    assert phone.seqs == [0, 1], "no event for an operation the client has ended"
    await wait_until(lambda: app.state.holo.hub.stats().subscribers == subscribers)
