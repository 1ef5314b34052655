"""Driving a live server as a client app would: HTTP for mutations, WebSocket for the stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Collection
from contextlib import asynccontextmanager
from typing import Any

import httpx
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from tests.support.server import LiveServer

EVENTS = gql("""
subscription Events($id: ID!, $after: String) {
  conversationEvents(conversationId: $id, after: $after) {
    __typename
    ... on EventBase { cursor conversationId messageId at }
    ... on MessagePosted { message { id text role } }
    ... on ReplyStarted { model fallback }
    ... on MessageDelta { seq text }
    ... on AudioChunk { seq url mimeType startMs durationMs text }
    ... on VisemeFrames { audioSeq frames { viseme startMs endMs weight } }
    ... on EmotionChanged { emotion intensity atMs }
    ... on ReplyCompleted {
      message { id text status timings { firstDeltaMs firstAudioMs totalMs } }
    }
    ... on ReplyInterrupted { heardText message { id text status } }
    ... on ReplyFailed { code detail }
  }
}
""")
TERMINAL = {"ReplyCompleted", "ReplyInterrupted", "ReplyFailed"}


def graphql(
    server: LiveServer,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = httpx.post(
        server.graphql_url,
        json={"query": query, "variables": variables or {}},
        headers=headers,
        timeout=30,
    ).json()
    return body


def ok(
    server: LiveServer,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    body = graphql(server, query, variables, token)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def setup_conversation(server: LiveServer, email: str = "ada@example.com") -> dict[str, str]:
    reg = ok(
        server,
        'mutation($e: String!) { register(email: $e, password: "correct horse", '
        'displayName: "Ada") { accessToken } }',
        {"e": email},
    )
    token = reg["register"]["accessToken"]
    comp = ok(
        server,
        'mutation { createCompanion(input: {name: "Mira", persona: "A cheerful '
        'astronomer"}) { id } }',
        token=token,
    )["createCompanion"]["id"]
    conv = ok(
        server,
        "mutation($c: ID!) { startConversation(companionId: $c) { id } }",
        {"c": comp},
        token,
    )["startConversation"]["id"]
    return {"token": token, "conversation": conv, "companion": comp}


def invite_ada(server: LiveServer, host: dict[str, str]) -> str:
    """Ada registers and is invited into ``host``'s conversation; returns her token."""
    ada: str = ok(
        server,
        'mutation { register(email: "ada@example.com", password: "correct horse", '
        'displayName: "Ada") { accessToken } }',
    )["register"]["accessToken"]
    ok(
        server,
        'mutation($id: ID!) { inviteToConversation(id: $id, email: "ada@example.com") { id } }',
        {"id": host["conversation"]},
        host["token"],
    )
    return ada


def live_cursor(server: LiveServer, world: dict[str, str]) -> str:
    """Where a race-free subscription starts: everything after this arrives."""
    data = ok(
        server,
        "query($c: ID!) { conversation(id: $c) { liveCursor } }",
        {"c": world["conversation"]},
        world["token"],
    )
    cursor: str = data["conversation"]["liveCursor"]
    return cursor


def send(server: LiveServer, token: str, conversation: str, text: str) -> dict[str, Any]:
    data = ok(
        server,
        "mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, "
        "text: $t) { id text role } }",
        {"c": conversation, "t": text},
        token,
    )
    message: dict[str, Any] = data["sendMessage"]
    return message


def ws_client(server: LiveServer, token: str, protocol: str) -> Client:
    transport = WebsocketsTransport(
        url=server.ws_url,
        subprotocols=[protocol],
        init_payload={"authorization": f"Bearer {token}"},
    )
    return Client(transport=transport, fetch_schema_from_transport=False)


class ReplyStream:
    """The events of one conversation as a client subscribed to them sees them, in order."""

    def __init__(self, events: AsyncGenerator[dict[str, Any], None]) -> None:
        self._events = events
        self.seen: list[dict[str, Any]] = []

    async def until(self, typenames: Collection[str], within_s: float = 30) -> dict[str, Any]:
        """Read on (at least one event) to the first of one of ``typenames``; return it."""
        while True:
            event: dict[str, Any] = (await asyncio.wait_for(anext(self._events), within_s))[
                "conversationEvents"
            ]
            self.seen.append(event)
            if event["__typename"] in typenames:
                return event


@asynccontextmanager
async def subscribed_then_sent(
    server: LiveServer,
    world: dict[str, str],
    text: str,
    protocol: str = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL,
    via: LiveServer | None = None,
) -> AsyncIterator[ReplyStream]:
    """Subscribe on ``server`` from the conversation's liveCursor (no race), then send ``text``
    (through ``via``, another process, if given)."""
    cursor = live_cursor(server, world)
    async with ws_client(server, world["token"], protocol) as session:
        events = session.subscribe(
            EVENTS, variable_values={"id": world["conversation"], "after": cursor}
        )
        await asyncio.to_thread(send, via or server, world["token"], world["conversation"], text)
        try:
            yield ReplyStream(events)
        finally:
            await events.aclose()
