"""A live event is executed once per viewer and document, then written to every socket.

Many screens and holograms of one person watch one conversation: each must get every event, in
its own protocol's framing and with exactly the fields it asked for, while the server does the
GraphQL work once per event per distinct document (``/metrics`` shows both counts).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from gql import gql
from gql.transport.exceptions import TransportQueryError
from starlette.applications import Starlette

from api.errors import classify_in_place
from api.graphql_schema import build_schema
from live.feed import LiveFeed, LiveOperation
from live.render import LiveRenderer, event_variables
from live.seam import core_schema
from pipeline.broadcast.log_base import LogEntry
from pipeline.events import MessageDelta
from schema import ids
from schema.types.events import event_from_payload
from services.channels import conversation_channel
from services.events import logged
from services.identity import Viewer
from tests.realtime.helpers import (
    EVENTS,
    TERMINAL,
    live_cursor,
    send,
    setup_conversation,
    ws_client,
)
from tests.realtime.test_live_reply import PROTOCOLS
from tests.support.graphql import PASSWORD, REGISTER, GraphQLClient
from tests.support.server import LiveServer

SLIM = gql("""
subscription Slim($id: ID!, $after: String) {
  conversationEvents(conversationId: $id, after: $after) {
    __typename
    ... on MessageDelta { cursor text }
    ... on ReplyCompleted { cursor }
  }
}
""")


def live_counts(server: LiveServer) -> tuple[float, float]:
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        values[name] = value
    return (
        float(values["holomate_live_renders_total"]),
        float(values["holomate_live_deliveries_total"]),
    )


async def collect(
    server: LiveServer, world: dict[str, str], protocol: str, document: Any, cursor: str
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with ws_client(server, world["token"], protocol) as session:
        variables = {"id": world["conversation"], "after": cursor}
        async for result in session.subscribe(document, variable_values=variables):
            event = result["conversationEvents"]
            events.append(event)
            if event["__typename"] in TERMINAL:
                break
    return events


async def test_every_socket_gets_every_event_while_each_event_executes_once_per_document(
    server: LiveServer,
) -> None:
    world = setup_conversation(server)
    cursor = live_cursor(server, world)
    renders_before, deliveries_before = live_counts(server)
    transport_ws, legacy = PROTOCOLS.values()
    watchers = [
        asyncio.create_task(collect(server, world, transport_ws, EVENTS, cursor)),
        asyncio.create_task(collect(server, world, transport_ws, EVENTS, cursor)),
        asyncio.create_task(collect(server, world, legacy, EVENTS, cursor)),
        asyncio.create_task(collect(server, world, transport_ws, SLIM, cursor)),
    ]
    await asyncio.to_thread(send, server, world["token"], world["conversation"], "Hi Mira!")
    phone, tablet, hologram, watch = await asyncio.wait_for(asyncio.gather(*watchers), 60)

    # The same document gives the same events on every socket, whatever the protocol.
    assert phone == tablet == hologram
    kinds = [e["__typename"] for e in phone]
    assert kinds[0] == "MessagePosted" and kinds[-1] == "ReplyCompleted"
    assert "AudioChunk" in kinds and "VisemeFrames" in kinds
    # Another document gets only what it asked for, from the same events.
    assert [e["__typename"] for e in watch] == kinds
    slim_delta = next(e for e in watch if e["__typename"] == "MessageDelta")
    full_delta = next(e for e in phone if e["__typename"] == "MessageDelta")
    assert slim_delta == {k: full_delta[k] for k in ("__typename", "cursor", "text")}
    assert set(watch[0]) == {"__typename"}  # MessagePosted: no fields selected

    renders_after, deliveries_after = live_counts(server)
    events = len(kinds)
    assert deliveries_after - deliveries_before == 4 * events
    assert renders_after - renders_before == 2 * events  # two documents, not four sockets


def test_only_variables_read_below_the_root_field_split_the_rendering() -> None:
    plain = (
        "subscription($id: ID!, $after: String) "
        "{ conversationEvents(conversationId: $id, after: $after) { __typename } }"
    )
    assert event_variables(plain, None) == ()
    conditional = (
        "subscription S($id: ID!, $after: String, $withText: Boolean!) "
        "{ conversationEvents(conversationId: $id, after: $after) "
        "{ ...F ... on MessageDelta @include(if: $withText) { text } } } "
        "fragment F on MessageDelta { seq @skip(if: $after) }"
    )
    # $after picks where each socket starts; $withText and a fragment's use shape the bytes.
    assert event_variables(conditional, "S") == ("after", "withText")


DELTA_TEXT = (
    "subscription { conversationEvents(conversationId: 1) "
    "{ ... on MessageDelta { text conversationId } } }"
)


def delta_feed(conversation: int, user_id: int = 1) -> LiveFeed:
    """A feed as conversationEvents hands it over, with no log behind it."""

    def event_for(entry: LogEntry) -> Any:
        return event_from_payload(entry.cursor, json.loads(entry.payload), str)

    async def nothing() -> AsyncIterator[LogEntry]:
        return
        yield

    async def close() -> None:
        pass

    return LiveFeed(
        conversation_channel(conversation),
        nothing(),
        lambda e: e,
        event_for,
        Viewer(user_id=user_id, expires_at=0),
        "http://testserver",
        close,
    )


async def rendered(renderer: LiveRenderer, feed: LiveFeed, entry: LogEntry) -> dict[str, Any]:
    operation = LiveOperation.of(DELTA_TEXT, None, None)
    payload = renderer.payload(renderer.key(operation, feed), operation, feed, entry)
    text = payload if isinstance(payload, str) else await payload
    event: dict[str, Any] = json.loads(text)["data"]["conversationEvents"]
    return event


def delta(conversation: int, text: str, cursor: str = "1700000000000-0") -> LogEntry:
    return LogEntry(cursor, logged(conversation, 10, MessageDelta(0, text)))


async def test_the_same_cursor_on_two_conversations_renders_each_its_own_event(
    app: Starlette,
) -> None:
    # Redis stream ids are per stream: two conversations can log "1700000000000-0" together.
    renderer = LiveRenderer(
        app.state.holo, core_schema(build_schema()), json.dumps, classify_in_place
    )
    one, two = delta_feed(1), delta_feed(2)
    first = await rendered(renderer, one, delta(1, "for conversation one"))
    again = await rendered(renderer, one, delta(1, "for conversation one"))
    second = await rendered(renderer, two, delta(2, "for conversation two"))
    assert first == again == {"text": "for conversation one", "conversationId": "cnv_1"}
    assert second == {"text": "for conversation two", "conversationId": "cnv_2"}
    assert renderer.renders == 2 and renderer.deliveries == 3


async def test_erasing_an_account_drops_every_rendered_event(
    app: Starlette, api: GraphQLClient
) -> None:
    ada = await api.ok(REGISTER, {"email": "ada@example.com", "password": PASSWORD, "name": "Ada"})
    token = ada["register"]["accessToken"]
    view = next(r.endpoint for r in app.routes if getattr(r, "path", None) == "/graphql")
    renderer: LiveRenderer = view.live_renderer
    feed = delta_feed(1, user_id=ids.decode("User", ada["register"]["user"]["id"]))
    await rendered(renderer, feed, delta(1, "something Ada said"))
    await rendered(renderer, feed, delta(1, "something Ada said"))
    assert renderer.renders == 1  # kept for the next subscriber...

    await api.ok("mutation($p: String!) { deleteMyAccount(password: $p) }", {"p": PASSWORD}, token)

    await rendered(renderer, feed, delta(1, "something Ada said"))
    assert renderer.renders == 2  # ...but not once the account is gone


@pytest.mark.parametrize("protocol", PROTOCOLS.values(), ids=PROTOCOLS.keys())
async def test_an_unknown_cursor_ends_only_that_stream_with_a_coded_error(
    server: LiveServer, protocol: str
) -> None:
    world = setup_conversation(server)
    cursor = live_cursor(server, world)
    async with ws_client(server, world["token"], protocol) as session:
        bad = {"id": world["conversation"], "after": "not-a-cursor"}
        with pytest.raises(TransportQueryError) as caught:
            async for _ in session.subscribe(EVENTS, variable_values=bad):
                pass
        assert caught.value.errors is not None
        assert caught.value.errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}
        # The socket lives on: the next subscription on it streams a whole reply.
        good = {"id": world["conversation"], "after": cursor}
        agen = session.subscribe(EVENTS, variable_values=good)
        await asyncio.to_thread(send, server, world["token"], world["conversation"], "Still here?")
        kinds = []
        async for result in agen:
            kinds.append(result["conversationEvents"]["__typename"])
            if kinds[-1] in TERMINAL:
                break
    assert kinds[0] == "MessagePosted" and kinds[-1] == "ReplyCompleted"
