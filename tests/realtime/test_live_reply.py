"""A reply streamed live over both WebSocket protocols, checked the way a hologram uses it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gql.transport.websockets import WebsocketsTransport

from tests.realtime.helpers import TERMINAL, setup_conversation, subscribed_then_sent
from tests.support.server import LiveServer

PROTOCOLS = {
    "graphql-transport-ws": WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL,
    "graphql-ws (legacy)": WebsocketsTransport.APOLLO_SUBPROTOCOL,
}
VISEMES = {"sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou"}
EMOTIONS = {
    "neutral",
    "joy",
    "sadness",
    "anger",
    "fear",
    "surprise",
    "disgust",
    "affection",
    "thinking",
}


async def subscribe_then_send(
    server: LiveServer, world: dict[str, str], protocol: str, text: str
) -> list[dict[str, Any]]:
    """Subscribe from the conversation's liveCursor (no race), send, collect the reply."""
    async with subscribed_then_sent(server, world, text, protocol) as stream:
        await stream.until(TERMINAL)
    return stream.seen


@pytest.mark.parametrize("protocol", PROTOCOLS.values(), ids=PROTOCOLS.keys())
async def test_a_reply_streams_in_order_with_audio_visemes_and_emotions(
    server: LiveServer, protocol: str
) -> None:
    world = setup_conversation(server)
    events = await subscribe_then_send(server, world, protocol, "Hello Mira! What is a star?")
    kinds = [e["__typename"] for e in events]
    assert (
        kinds[0] == "MessagePosted"
        and events[0]["message"]["text"] == "Hello Mira! What is a star?"
    )
    assert kinds[1] == "ReplyStarted"
    assert kinds[-1] == "ReplyCompleted"
    cursors = [e["cursor"] for e in events]
    assert len(set(cursors)) == len(cursors)
    reply_id = events[-1]["message"]["id"]
    assert all(e["messageId"] == reply_id for e in events[1:])
    deltas = [e for e in events if e["__typename"] == "MessageDelta"]
    assert [d["seq"] for d in deltas] == sorted(d["seq"] for d in deltas)
    assert "".join(d["text"] for d in deltas) == events[-1]["message"]["text"]
    chunks = [e for e in events if e["__typename"] == "AudioChunk"]
    assert chunks, kinds
    for chunk in chunks:
        index = events.index(chunk)
        before = events[:index]
        frames = [
            e for e in before if e["__typename"] == "VisemeFrames" and e["audioSeq"] == chunk["seq"]
        ]
        assert len(frames) == 1, "a chunk's mouth track arrives before the chunk"
        for frame in frames[0]["frames"]:
            assert frame["viseme"] in VISEMES
            assert 0 <= frame["startMs"] <= frame["endMs"] <= chunk["durationMs"]
        assert any(e["__typename"] == "EmotionChanged" for e in before)
        async with httpx.AsyncClient(timeout=10) as http:
            audio = await http.get(chunk["url"])
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
        assert audio.headers["content-type"].startswith("audio/wav")
    starts = [c["startMs"] for c in chunks]
    assert starts == sorted(starts) and starts[0] == 0
    for emotion in (e for e in events if e["__typename"] == "EmotionChanged"):
        assert emotion["emotion"] in EMOTIONS and 0 <= emotion["intensity"] <= 1
    timings = events[-1]["message"]["timings"]
    assert timings["firstDeltaMs"] is not None and timings["firstAudioMs"] is not None


async def test_audio_urls_refuse_a_wrong_or_expired_signature(server: LiveServer) -> None:
    world = setup_conversation(server)
    events = await subscribe_then_send(server, world, PROTOCOLS["graphql-transport-ws"], "Hi!")
    url = next(e["url"] for e in events if e["__typename"] == "AudioChunk")
    tampered = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    base, _, query = url.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&"))
    expired = f"{base}?exp=1000&sig={params['sig']}"
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.get(url)).status_code == 200
        assert (await http.get(tampered)).status_code == 403
        assert (await http.get(expired)).status_code == 403
