"""A hologram talked to hands-free: the device streams its microphone over the socket that holds
its stream, hears itself listened to and answered on ``hologramEvents``, cuts in on a playing
reply by speaking, and reaches no one else's session nor another companion's conversation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from gql import gql
from gql.client import AsyncClientSession
from gql.transport.websockets import WebsocketsTransport

from tests.devices.helpers import ASSIGN, pair_live, wait_online
from tests.devices.test_live_devices import grant_plan
from tests.realtime.helpers import graphql, ok, send, setup_conversation
from tests.realtime.test_voice_sessions import _spend_month_of_voice as spend_month_of_voice
from tests.realtime.voice_client import Mic, client, silence, speech_pcm
from tests.support.server import LiveServer

PROTOCOLS = [
    pytest.param(WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL, id="graphql-transport-ws"),
    pytest.param(WebsocketsTransport.APOLLO_SUBPROTOCOL, id="graphql-ws"),
]
START = "mutation($c: ID) { startVoiceSession(conversationId: $c) { id conversationId } }"
CHUNK = (
    "mutation($s: ID!, $a: String!) { sendVoiceChunk(sessionId: $s, seq: 0, audio: $a) "
    "{ receivedMs } }"
)
END = "mutation($s: ID!) { endVoiceSession(sessionId: $s) { id } }"
HOLOGRAM = gql("""
subscription {
  hologramEvents {
    __typename
    ... on EventBase { cursor conversationId messageId }
    ... on MessagePosted { message { id text role } }
    ... on AudioChunk { seq durationMs text }
    ... on ReplyCompleted { message { text status } }
    ... on ReplyInterrupted { heardText message { status } }
    ... on VoiceSpeechStarted { sessionId atMs }
    ... on VoiceFinalTranscript { sessionId text outcome }
    ... on VoiceSessionClosed { sessionId reason }
  }
}
""")
A_CHUNK = "AAAAAA=="  # 3 ms of silence


class Hologram:
    """The device's stream as it arrives on the socket its microphone also streams on, read
    from the start (a subscription is sent once its first event is asked for)."""

    def __init__(self, session: AsyncClientSession) -> None:
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader = asyncio.ensure_future(self._read(session.subscribe(HOLOGRAM)))
        self.seen: list[dict[str, Any]] = []

    async def _read(self, events: AsyncGenerator[dict[str, Any], None]) -> None:
        async for event in events:
            self._queue.put_nowait(event["hologramEvents"])

    async def until(self, typename: str, within_s: float = 30, **fields: Any) -> dict[str, Any]:
        while True:
            event = await asyncio.wait_for(self._queue.get(), within_s)
            self.seen.append(event)
            if event["__typename"] == typename and all(
                event.get(k) == v for k, v in fields.items()
            ):
                return event

    async def aclose(self) -> None:
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)


def paired_hologram(server: LiveServer, world: dict[str, str]) -> dict[str, Any]:
    device = pair_live(server, world["token"])
    ok(server, ASSIGN, {"d": device["id"], "c": world["companion"]}, world["token"])
    return device


async def start_device_session(session: AsyncClientSession) -> tuple[Mic, str]:
    started = (await session.execute(gql(START), variable_values={"c": None}))["startVoiceSession"]
    return Mic(session, started["id"]), started["conversationId"]


def code(body: dict[str, Any]) -> tuple[str, str | None]:
    assert body.get("errors"), body
    extensions = body["errors"][0]["extensions"]
    return extensions["code"], extensions.get("reason")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_hologram_spoken_to_hands_free_shows_it_listened_and_answers(
    server: LiveServer, protocol: str
) -> None:
    world = setup_conversation(server)
    device = paired_hologram(server, world)
    async with client(server.ws_url, device["token"], protocol) as session:
        hologram = Hologram(session)
        await asyncio.to_thread(wait_online, server, world["token"], device["id"])
        # No conversation named: the owner's latest one with the assigned companion.
        mic, conversation = await start_device_session(session)
        assert conversation == world["conversation"]
        await mic.stream(silence(600) + speech_pcm() + silence(900))
        started = await hologram.until("VoiceSpeechStarted", sessionId=mic.id)
        final = await mic.quiet_until(hologram.until("VoiceFinalTranscript", sessionId=mic.id))
        completed = await mic.quiet_until(hologram.until("ReplyCompleted"))  # still listening
        await mic.end()
        closed = await hologram.until("VoiceSessionClosed", sessionId=mic.id)
        await hologram.aclose()

    assert started["conversationId"] == world["conversation"] and 500 <= started["atMs"] <= 800
    assert final["outcome"] == "MESSAGE" and "stars" in final["text"].lower(), final
    posted = [e for e in hologram.seen if e["__typename"] == "MessagePosted"]
    assert [p["message"]["text"] for p in posted if p["message"]["role"] == "USER"] == [
        final["text"]
    ]
    assert completed["message"]["status"] == "COMPLETE" and completed["message"]["text"]
    assert closed["reason"] == "ENDED"
    # The message is the owner's, in the owner's conversation, counted in their voice minutes.
    history = ok(
        server,
        "query($c: ID!) { conversation(id: $c) { messages(last: 5) { edges { node "
        "{ text role } } } } }",
        {"c": world["conversation"]},
        world["token"],
    )["conversation"]["messages"]["edges"]
    assert final["text"] in [e["node"]["text"] for e in history if e["node"]["role"] == "USER"]


async def test_a_hologram_speaking_over_its_playing_reply_interrupts_it(
    server: LiveServer,
) -> None:
    world = setup_conversation(server)
    device = paired_hologram(server, world)
    protocol = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
    async with client(server.ws_url, device["token"], protocol) as session:
        hologram = Hologram(session)
        await asyncio.to_thread(wait_online, server, world["token"], device["id"])
        mic, _ = await start_device_session(session)
        await asyncio.to_thread(send, server, world["token"], world["conversation"], "A story?")
        chunk = await mic.quiet_until(hologram.until("AudioChunk"))
        playing = {"messageId": chunk["messageId"], "heardUntilMs": chunk["durationMs"] // 2}
        await mic.stream(speech_pcm() + silence(700), playing)
        interrupted = await hologram.until("ReplyInterrupted", messageId=chunk["messageId"])
        final = await hologram.until("VoiceFinalTranscript", sessionId=mic.id)
        await mic.end()
        await hologram.aclose()

    assert interrupted["message"]["status"] == "INTERRUPTED"
    assert len(interrupted["heardText"]) < len(chunk["text"])
    assert final["outcome"] == "MESSAGE" and final["text"]


async def test_a_device_reaches_only_its_own_sessions_and_its_own_companion(
    server: LiveServer,
) -> None:
    world = setup_conversation(server)
    owner = world["token"]
    await grant_plan(server, owner, "plus")  # two devices
    desk = paired_hologram(server, world)["token"]
    shelf = pair_live(server, owner, serial="HX-2", name="Shelf")
    stranger = setup_conversation(server, "eve@example.com")

    # Before a companion is assigned the device has no one to talk to.
    assert code(graphql(server, START, {"c": None}, shelf["token"])) == (
        "CONFLICT",
        "NO_COMPANION_ASSIGNED",
    )
    ok(server, ASSIGN, {"d": shelf["id"], "c": world["companion"]}, owner)
    # Another companion of the owner's, and another person's conversation, are refused.
    other = ok(
        server,
        'mutation { createCompanion(input: {name: "Orion", persona: "Calm"}) { id } }',
        token=owner,
    )["createCompanion"]["id"]
    others = ok(
        server,
        "mutation($c: ID!) { startConversation(companionId: $c) { id } }",
        {"c": other},
        owner,
    )["startConversation"]["id"]
    assert code(graphql(server, START, {"c": others}, desk)) == (
        "FORBIDDEN",
        "NOT_ASSIGNED_COMPANION",
    )
    assert code(graphql(server, START, {"c": stranger["conversation"]}, desk))[0] == "NOT_FOUND"
    # A person still names the conversation.
    assert code(graphql(server, START, {"c": None}, owner))[0] == "BAD_USER_INPUT"

    persons = ok(server, START, {"c": world["conversation"]}, owner)["startVoiceSession"]["id"]
    desks = ok(server, START, {"c": world["conversation"]}, desk)["startVoiceSession"]["id"]
    # Sessions count against the owner: a second device is past the two they may hold.
    assert code(graphql(server, START, {"c": None}, shelf["token"]))[0] == "RATE_LIMITED"
    for token, session_id in [
        (desk, persons),
        (shelf["token"], desks),
        (owner, desks),
        (stranger["token"], desks),
    ]:
        assert code(graphql(server, CHUNK, {"s": session_id, "a": A_CHUNK}, token)) == (
            "NOT_FOUND",
            None,
        )
        assert code(graphql(server, END, {"s": session_id}, token))[0] == "NOT_FOUND"
    # Each holder still streams into and ends its own.
    assert ok(server, CHUNK, {"s": desks, "a": A_CHUNK}, desk)["sendVoiceChunk"]["receivedMs"] == 0
    assert ok(server, END, {"s": desks}, desk)["endVoiceSession"]["id"] == desks
    assert ok(server, END, {"s": persons}, owner)["endVoiceSession"]["id"] == persons


async def test_a_device_talks_on_its_owners_voice_minutes(
    server: LiveServer, database_url: str
) -> None:
    world = setup_conversation(server)
    device = paired_hologram(server, world)
    await spend_month_of_voice(database_url, world)
    refused = graphql(server, START, {"c": None}, device["token"])
    assert code(refused)[0] == "QUOTA_EXCEEDED"
    assert refused["errors"][0]["extensions"]["limit"] == "voiceMinutesPerMonth"
