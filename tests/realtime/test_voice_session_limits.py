"""A voice session's limits: it lives in the process that started it (another process answers
its chunks with a code), a person holds a bounded number at once, and an idle one closes with
an event that says why."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from tests.conftest import broadcast_env
from tests.privacy.test_erasure_live_resume import reply_events
from tests.realtime.helpers import (
    graphql,
    invite_ada,
    live_cursor,
    ok,
    send,
    setup_conversation,
)
from tests.realtime.test_two_processes import two_servers  # noqa: F401 - a fixture
from tests.realtime.voice_client import CHUNK_TEXT, Events, Mic, client, silence, speech_pcm
from tests.support.server import LiveServer, live_server

TRANSPORT = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL


async def test_a_chunk_sent_to_a_process_that_does_not_hold_the_session_is_refused_with_a_code(
    two_servers: tuple[LiveServer, LiveServer],  # noqa: F811
) -> None:
    a, b = two_servers
    world = setup_conversation(a)
    async with client(a.ws_url, world["token"], TRANSPORT) as on_a:
        mic = await Mic.start(on_a, world["conversation"])
        await mic.send(silence(100))
        # The same chunk over HTTP to the other process: told where the session is, not lost
        # silently and not NOT_FOUND (the session exists).
        audio = base64.b64encode(silence(100)).decode()
        body = await asyncio.to_thread(
            graphql,
            b,
            CHUNK_TEXT,
            {"s": mic.id, "q": 1, "a": audio},
            world["token"],
        )
        assert body["errors"][0]["extensions"] == {
            "code": "CONFLICT",
            "reason": "VOICE_SESSION_ELSEWHERE",
        }
        # Its own process goes on taking them.
        assert (await mic.send(silence(100)))["sendVoiceChunk"]["seq"] == 1


@pytest.fixture
def quick_idle(database_url: str, clean_db: None, tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(
        database_url,
        tmp_path / "storage",
        HOLOMATE_VOICE_IDLE_TIMEOUT_S="1",
        HOLOMATE_VOICE_SESSIONS_PER_PERSON="1",
        **broadcast_env(),
    ) as running:
        yield running


async def test_an_idle_session_closes_and_says_why_and_a_person_holds_a_bounded_number(
    quick_idle: LiveServer,
) -> None:
    server = quick_idle
    world = setup_conversation(server)
    after = live_cursor(server, world)
    async with client(server.ws_url, world["token"], TRANSPORT) as session:
        events = Events.follow(session, world["conversation"], after)
        await asyncio.sleep(0.3)
        mic = await Mic.start(session, world["conversation"])
        with pytest.raises(TransportQueryError) as caught:
            await Mic.start(session, world["conversation"])  # one at a time on this plan
        assert caught.value.errors
        assert caught.value.errors[0]["extensions"]["code"] == "RATE_LIMITED"
        # Half a sentence, then the microphone goes quiet without ending the session.
        await mic.stream(speech_pcm()[: 32 * 1200])
        closed = await events.until("VoiceSessionClosed", within_s=30, sessionId=mic.id)
        assert closed["reason"] == "IDLE" and closed["detail"]
        # The speech it held was answered as a turn first.
        [final] = events.of("VoiceFinalTranscript")
        assert final["outcome"] in {"MESSAGE", "NO_SPEECH"}
        # Closed: its chunks are refused, and the person may open a new one.
        with pytest.raises(TransportQueryError) as caught:
            await mic.send(silence(100))
        assert caught.value.errors
        assert caught.value.errors[0]["extensions"]["code"] == "NOT_FOUND"
        await Mic.start(session, world["conversation"])
        await events.aclose()


async def test_a_person_erased_mid_turn_is_not_heard_after(server: LiveServer) -> None:
    """Ada speaks in Bob's conversation and erases her account before the turn ends: Bob's
    screen gets nothing more of hers (no transcript, no message), his live stream goes on
    though its cursor named her event, and a replay from before her (or from her event) shows
    none of what she said (on the SQLite log, and on Redis Streams in the PostgreSQL run)."""
    bob = setup_conversation(server, "bob@example.com")
    ada = invite_ada(server, bob)
    after = live_cursor(server, bob)
    async with (
        client(server.ws_url, bob["token"], TRANSPORT) as bobs,
        client(server.ws_url, ada, TRANSPORT) as adas,
    ):
        events = Events.follow(bobs, bob["conversation"], after)
        await asyncio.sleep(0.3)
        mic = await Mic.start(adas, bob["conversation"])
        # Mid-sentence, and shorter than the partial interval (1 s of speech): nothing of hers
        # but the start of speech can reach Bob before she is erased (with 1.5 s, a partial
        # transcript made before her erasure reached him on a loaded machine).
        await mic.stream(silence(300) + speech_pcm()[: 32 * 800])
        heard = await events.until("VoiceSpeechStarted", sessionId=mic.id)
        await asyncio.to_thread(
            ok,
            server,
            "mutation($p: String!) { deleteMyAccount(password: $p) }",
            {"p": "correct horse"},
            ada,
        )
        await asyncio.sleep(3)  # a turn left open would end, be transcribed and sent by now
        send(server, bob["token"], bob["conversation"], "Anyone there?")
        await events.until("ReplyCompleted")
        await events.aclose()
    said = [
        e["message"]["text"] for e in events.of("MessagePosted") if e["message"]["role"] == "USER"
    ]
    assert said == ["Anyone there?"]
    assert not events.of("VoiceFinalTranscript") and not events.of("VoicePartialTranscript")
    assert not events.of("VoiceSessionClosed")
    for cursor in (after, heard["cursor"]):  # Bob's screen reconnects
        kinds = [
            e["__typename"]
            for e in await reply_events(server, bob["token"], bob["conversation"], cursor)
        ]
        assert kinds[0] == "MessagePosted" and kinds[-1] == "ReplyCompleted"
        assert not [kind for kind in kinds if kind.startswith("Voice")]
