"""Talking hands-free: the microphone streamed over the GraphQL socket the app already holds,
on both WebSocket protocols. The server hears speech start and the turn end, transcribes it,
sends it as the person's message and the companion answers; speaking over a playing reply
stops it where the device says it was heard, and a cough does not."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from store.models import Message, MessageRole, MessageStatus, User
from tests.realtime.helpers import live_cursor, send, setup_conversation
from tests.realtime.voice_client import (
    CHUNK_BYTES,
    Events,
    Mic,
    client,
    noise,
    silence,
    speech_pcm,
)
from tests.support.billing import record_heard_voice
from tests.support.processes import children, has_loaded
from tests.support.server import LiveServer
from tests.support.waiting import until

LONG = (
    "hello how are you today tell me about the stars tonight "
    "i would like to know which planets we can see from the garden"
)
PROTOCOLS = [
    pytest.param(WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL, id="graphql-transport-ws"),
    pytest.param(WebsocketsTransport.APOLLO_SUBPROTOCOL, id="graphql-ws"),
]


@asynccontextmanager
async def talking(
    server: LiveServer, world: dict[str, str], protocol: str
) -> AsyncIterator[tuple[Mic, Events]]:
    """One socket: the conversation's events followed, a voice session open on it."""
    after = live_cursor(server, world)
    async with client(server.ws_url, world["token"], protocol) as session:
        events = Events.follow(session, world["conversation"], after)
        await asyncio.sleep(0.3)  # the subscription is registered before anything is said
        mic = await Mic.start(session, world["conversation"])
        try:
            yield mic, events
        finally:
            await events.aclose()


def refusal(error: TransportQueryError) -> dict[str, Any]:
    assert error.errors, error
    extensions: dict[str, Any] = error.errors[0]["extensions"]
    return extensions


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_speech_streamed_in_real_time_becomes_a_message_and_the_companion_answers(
    server: LiveServer, protocol: str
) -> None:
    world = setup_conversation(server)
    async with talking(server, world, protocol) as (mic, events):
        # A microphone opens on the room before anyone speaks (offline STT starts its worker
        # meanwhile); two sentences, long enough for partial transcripts while speaking.
        await mic.stream(silence(1500) + speech_pcm(LONG) + silence(900))
        started = await events.until("VoiceSpeechStarted", sessionId=mic.id)
        ended = await events.until("VoiceTurnEnded", sessionId=mic.id)
        # The microphone stays open while the person listens (a session sent nothing for its
        # idle timeout closes, and a loaded machine's reply can take that long).
        final = await mic.quiet_until(events.until("VoiceFinalTranscript", sessionId=mic.id))
        completed = await mic.quiet_until(events.until("ReplyCompleted"))
        await mic.end()
        closed = await events.until("VoiceSessionClosed", sessionId=mic.id)

    # Speech began 1.5 s in and lasted the sentence; the turn ended at its last word.
    assert 1400 <= started["atMs"] <= 1700
    assert ended["endMs"] - ended["startMs"] >= 4000
    partials = events.of("VoicePartialTranscript")
    assert partials and all(p["text"] for p in partials), events.seen
    assert events.seen.index(partials[-1]) < events.seen.index(final)
    assert final["outcome"] == "MESSAGE", final
    assert final["text"] and final["words"]
    # Word timings are positions in the streamed audio, inside the turn.
    assert ended["startMs"] - 200 <= final["words"][0]["startMs"] < final["words"][-1]["endMs"]
    assert final["words"][-1]["endMs"] <= ended["endMs"] + 700
    posted = [e for e in events.of("MessagePosted") if e["message"]["role"] == "USER"]
    assert [p["message"]["text"] for p in posted] == [final["text"]]
    assert final["messageId"] == posted[0]["message"]["id"]
    assert completed["message"]["status"] == "COMPLETE" and completed["message"]["text"]
    assert closed["reason"] == "ENDED"
    order = [e["__typename"] for e in events.seen]
    assert order.index("VoiceSpeechStarted") < order.index("VoiceTurnEnded")
    assert order.index("VoiceTurnEnded") < order.index("MessagePosted")


async def _reply_playing(
    server: LiveServer, world: dict[str, str], mic: Mic, events: Events
) -> dict[str, Any]:
    """Ask something by text; the first audio chunk of the reply means it is playing."""
    await asyncio.to_thread(send, server, world["token"], world["conversation"], "Tell me a story")
    return await mic.quiet_until(events.until("AudioChunk"))


def workers_with(server: LiveServer, library: str) -> list[int]:
    """The server's worker processes that have loaded ``library``."""
    return [pid for pid in children(server.pid) if has_loaded(pid, library)]


async def test_opening_a_session_starts_the_offline_engines_before_anything_is_said(
    server: LiveServer,
) -> None:
    """The speech-to-text and voice workers (a process and a model each, 1-3 s) start with
    the session: the first turn's transcript and its reply's first audio do not wait for them."""
    world = setup_conversation(server)
    engines = ("ctranslate2", "libespeak-ng")  # Whisper's, the companion's default voice's
    assert all(workers_with(server, e) == [] for e in engines)  # nothing asked for them yet
    async with talking(server, world, WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL):
        await until(lambda: all(workers_with(server, e) for e in engines), "both workers", 30)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_speaking_over_a_playing_reply_interrupts_it_where_it_was_heard(
    server: LiveServer, protocol: str
) -> None:
    world = setup_conversation(server)
    async with talking(server, world, protocol) as (mic, events):
        chunk = await _reply_playing(server, world, mic, events)
        playing = {"messageId": chunk["messageId"], "heardUntilMs": chunk["durationMs"] // 2}
        await mic.stream(speech_pcm() + silence(700), playing)
        interrupted = await events.until("ReplyInterrupted", messageId=chunk["messageId"])
        final = await events.until("VoiceFinalTranscript", sessionId=mic.id)

    # Half of the first chunk was heard: the kept text is shorter than that chunk's.
    assert interrupted["message"]["status"] == "INTERRUPTED"
    assert interrupted["heardText"] == interrupted["message"]["text"]
    assert len(interrupted["heardText"]) < len(chunk["text"])
    # What was said over it is the person's next message.
    assert final["outcome"] == "MESSAGE" and final["text"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_cough_over_a_playing_reply_does_not_interrupt_it(
    server: LiveServer, protocol: str
) -> None:
    world = setup_conversation(server)
    async with talking(server, world, protocol) as (mic, events):
        chunk = await _reply_playing(server, world, mic, events)
        playing = {"messageId": chunk["messageId"], "heardUntilMs": 100}
        await mic.stream(silence(200) + noise(250) + silence(800), playing)
        await mic.end()
        await events.until("VoiceSessionClosed", sessionId=mic.id)

    assert not events.of("ReplyInterrupted")
    said = [
        e["message"]["text"] for e in events.of("MessagePosted") if e["message"]["role"] == "USER"
    ]
    assert said == ["Tell me a story"]  # the cough became no message
    # Heard as a sound at most, never as a turn.
    assert {f["outcome"] for f in events.of("VoiceFinalTranscript")} <= {"BACKCHANNEL"}
    statuses = await _statuses(server, MessageRole.COMPANION)
    assert MessageStatus.INTERRUPTED not in statuses


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_malformed_and_oversized_chunks_are_refused_with_codes(
    server: LiveServer, protocol: str
) -> None:
    world = setup_conversation(server)
    async with talking(server, world, protocol) as (mic, _):
        bad = {
            "ODD_BYTE_COUNT": base64.b64encode(b"\x00" * 321).decode(),
            "BAD_BASE64": "not base64!!",
            "CHUNK_TOO_LARGE": base64.b64encode(bytes(CHUNK_BYTES * 6)).decode(),
            "EMPTY_CHUNK": "",
        }
        for reason, audio in bad.items():
            with pytest.raises(TransportQueryError) as caught:
                await mic.session.execute(
                    _chunk(), variable_values={"s": mic.id, "q": 0, "a": audio}
                )
            assert refusal(caught.value) == {
                "code": "BAD_USER_INPUT",
                "field": "audio",
                "reason": reason,
            }
        await mic.send(silence(100))  # seq 0: refused chunks took no seq
        for seq, reason in ((0, "SEQ_REPEATED"), (40, "SEQ_GAP")):
            with pytest.raises(TransportQueryError) as caught:
                await mic.session.execute(
                    _chunk(),
                    variable_values={
                        "s": mic.id,
                        "q": seq,
                        "a": base64.b64encode(silence(100)).decode(),
                    },
                )
            assert refusal(caught.value)["reason"] == reason
        # Faster than real time, past the allowed burst: slowed down, not buffered forever.
        with pytest.raises(TransportQueryError) as caught:
            for _ in range(40):
                await mic.send(silence(100))
        assert refusal(caught.value)["code"] == "RATE_LIMITED"
        # A made-up session is not found.
        for made_up in ("vs_nope", mic.id + "x"):
            with pytest.raises(TransportQueryError) as caught:
                await mic.session.execute(
                    _chunk(), variable_values={"s": made_up, "q": 0, "a": "AAAA"}
                )
            assert refusal(caught.value)["code"] == "NOT_FOUND"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_session_over_the_plans_voice_minutes_is_refused(
    server: LiveServer, database_url: str, protocol: str
) -> None:
    world = setup_conversation(server)
    await _spend_month_of_voice(database_url, world)
    async with client(server.ws_url, world["token"], protocol) as session:
        with pytest.raises(TransportQueryError) as caught:
            await Mic.start(session, world["conversation"])
    assert refusal(caught.value)["code"] == "QUOTA_EXCEEDED"
    assert refusal(caught.value)["limit"] == "voiceMinutesPerMonth"


def _chunk() -> Any:
    from tests.realtime.voice_client import CHUNK

    return CHUNK


async def _statuses(server: LiveServer, role: MessageRole) -> list[MessageStatus]:
    engine = create_async_engine(server.env["HOLOMATE_DATABASE_URL"])
    try:
        async with async_sessionmaker(engine)() as session:
            rows = await session.scalars(select(Message.status).where(Message.role == role))
            return list(rows.all())
    finally:
        await engine.dispose()


async def _spend_month_of_voice(database_url: str, world: dict[str, str]) -> None:
    """As if Ada had heard the free plan's 30 voice minutes this month."""
    engine = create_async_engine(database_url)
    try:
        async with async_sessionmaker(engine)() as session:
            ada = await session.scalar(select(User.id).where(User.email == "ada@example.com"))
            conversation = int(world["conversation"].split("_")[1])
            assert ada is not None
            await record_heard_voice(session, conversation, ada, 30 * 60_000)
    finally:
        await engine.dispose()
