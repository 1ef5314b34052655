"""A new conversation opens with the companion's greeting, streamed like any reply."""

from __future__ import annotations

import asyncio
from typing import Any

from gql import gql
from gql.transport.websockets import WebsocketsTransport

from tests.realtime.helpers import ok, ws_client
from tests.support.server import LiveServer

EVENTS = gql("""
subscription Events($id: ID!, $after: String) {
  conversationEvents(conversationId: $id, after: $after) {
    __typename
    ... on ReplyStarted { messageId model }
    ... on MessageDelta { text }
    ... on AudioChunk { url durationMs }
    ... on VisemeFrames { frames { viseme } }
    ... on EmotionChanged { emotion }
    ... on ReplyCompleted { message { id text status role } }
  }
}
""")
REGISTER = (
    'mutation { register(email: "ada@example.com", password: "correct horse", '
    'displayName: "Ada") { accessToken } }'
)
COMPANION = """mutation { createCompanion(input: {name: "Nova",
  greeting: "Hello {{user}}! I'm {{char}}, and I'm so happy to meet you."}) { id } }"""
START = "mutation($c: ID!) { startConversation(companionId: $c) { id liveCursor } }"
NEWEST = "query($c: ID!) { conversation(id: $c) { messages { nodes { status } } } }"
GREETING = "Hello Ada! I'm Nova, and I'm so happy to meet you."


def _start(server: LiveServer) -> tuple[str, dict[str, str]]:
    token = ok(server, REGISTER)["register"]["accessToken"]
    companion = ok(server, COMPANION, token=token)["createCompanion"]["id"]
    started: dict[str, str] = ok(server, START, {"c": companion}, token)["startConversation"]
    return token, started


async def _events(server: LiveServer, token: str, started: dict[str, str]) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    async with ws_client(server, token, WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL) as session:
        variables = {"id": started["id"], "after": started["liveCursor"]}
        async for event in session.subscribe(EVENTS, variable_values=variables):
            seen.append(event["conversationEvents"])
            if seen[-1]["__typename"] == "ReplyCompleted":
                return seen
    raise AssertionError("the stream ended")


async def test_the_greeting_streams_with_voice_visemes_and_emotions(server: LiveServer) -> None:
    token, started = _start(server)
    seen = await asyncio.wait_for(_events(server, token, started), 30)

    kinds = [e["__typename"] for e in seen]
    assert kinds[0] == "ReplyStarted" and seen[0]["model"] == "greeting"
    assert {"MessageDelta", "AudioChunk", "VisemeFrames", "EmotionChanged"} <= set(kinds)
    assert "".join(e["text"] for e in seen if e["__typename"] == "MessageDelta") == GREETING
    completed = seen[-1]["message"]
    assert completed["text"] == GREETING and completed["role"] == "COMPANION"
    assert completed["status"] == "COMPLETE"


async def test_a_client_subscribing_after_the_greeting_ended_still_gets_it_whole(
    server: LiveServer,
) -> None:
    token, started = _start(server)
    for _ in range(300):
        nodes = ok(server, NEWEST, {"c": started["id"]}, token)["conversation"]["messages"]
        if nodes["nodes"][0]["status"] == "COMPLETE":
            break
        await asyncio.sleep(0.05)
    seen = await asyncio.wait_for(_events(server, token, started), 30)
    assert seen[0]["__typename"] == "ReplyStarted"
    assert "".join(e["text"] for e in seen if e["__typename"] == "MessageDelta") == GREETING
