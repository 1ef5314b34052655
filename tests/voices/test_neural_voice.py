"""The neural offline voice as a person picks it: listed by availableVoices, chosen by a voice
profile, and a reply in it whose every audio chunk has a mouth track covering it exactly."""

from __future__ import annotations

import asyncio
import io
import wave
from array import array
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from gql.transport.websockets import WebsocketsTransport
from starlette.applications import Starlette

from api.app import create_app
from api.providers import build_tts
from api.settings import Settings
from tests.realtime.helpers import TERMINAL, ok, subscribed_then_sent
from tests.support.graphql import GraphQLClient, register
from tests.support.server import LiveServer

AVAILABLE = "{ availableVoices { provider voiceId name language previewText } }"
CREATE = """
mutation($input: CreateVoiceProfileInput!) {
  createVoiceProfile(input: $input) { id provider voiceId language } }
"""
NEURAL = {"provider": "piper", "voiceId": "en_US-joe-medium"}


async def test_the_neural_voice_is_listed_and_a_profile_can_pick_it(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    voices = (await api.ok(AVAILABLE, token=token))["availableVoices"]
    (neural,) = [v for v in voices if v["provider"] == "piper"]
    assert neural == {
        "provider": "piper",
        "voiceId": "en_US-joe-medium",
        "name": "Joe (US English, neural)",
        "language": "en-us",
        "previewText": "Hi! This is how I sound. Shall we talk?",
    }
    assert any(v["provider"] == "espeak" for v in voices), "espeak-ng stays on offer"
    profile = (await api.ok(CREATE, {"input": {"name": "Joe", **NEURAL}}, token))[
        "createVoiceProfile"
    ]
    assert profile | {"id": None} == {"id": None, **NEURAL, "language": "en"}
    error = await api.error(
        CREATE, {"input": {"name": "X", "provider": "piper", "voiceId": "x"}}, token
    )
    assert (error["extensions"]["code"], error["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "voiceId",
    )


@pytest.fixture
async def without_piper(settings: Settings, clean_db: None) -> AsyncIterator[GraphQLClient]:
    application: Starlette = create_app(settings.model_copy(update={"piper_voice": False}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield GraphQLClient(http)


async def test_a_server_that_does_not_offer_it_refuses_it_by_name(
    without_piper: GraphQLClient,
) -> None:
    token = (await register(without_piper, "ada@example.com"))["accessToken"]
    voices = (await without_piper.ok(AVAILABLE, token=token))["availableVoices"]
    assert not [v for v in voices if v["provider"] == "piper"]
    error = await without_piper.error(CREATE, {"input": {"name": "Joe", **NEURAL}}, token)
    assert error["extensions"]["field"] == "provider"
    assert "espeak" in error["message"] and "piper" not in error["message"]


def test_production_offers_it_only_once_the_operator_opts_in() -> None:
    """The voice's terms are the operator's to clear before selling it (README)."""
    production = Settings(env="production", secret_key="x" * 40)  # type: ignore[arg-type]
    assert sorted(build_tts(production)) == ["espeak"]
    opted_in = production.model_copy(update={"piper_voice": True})
    assert sorted(build_tts(opted_in)) == ["espeak", "piper"]
    assert "piper" in build_tts(Settings(env="development"))


def neural_conversation(server: LiveServer) -> dict[str, str]:
    token = ok(
        server,
        'mutation { register(email: "ada@example.com", password: "correct horse", '
        'displayName: "Ada") { accessToken } }',
    )["register"]["accessToken"]
    profile = ok(server, CREATE, {"input": {"name": "Joe", **NEURAL}}, token)
    companion = ok(
        server,
        'mutation($v: ID!) { createCompanion(input: {name: "Mira", persona: "A cheerful '
        'astronomer", voiceProfileId: $v}) { id } }',
        {"v": profile["createVoiceProfile"]["id"]},
        token,
    )["createCompanion"]["id"]
    conversation = ok(
        server,
        "mutation($c: ID!) { startConversation(companionId: $c) { id } }",
        {"c": companion},
        token,
    )["startConversation"]["id"]
    return {"token": token, "conversation": conversation, "companion": companion}


def wav(data: bytes) -> tuple[int, array[int]]:
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        return round(w.getnframes() * 1000 / 22050), array("h", w.readframes(w.getnframes()))


@pytest.mark.one_backend  # speech synthesis and its mouth track
async def test_a_reply_in_the_neural_voice_has_a_mouth_track_covering_each_chunk(
    server: LiveServer,
) -> None:
    world = neural_conversation(server)
    protocol = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
    text = "Hello Mira! What is a star? Tell me about the Moon."
    async with subscribed_then_sent(server, world, text, protocol) as stream:
        # The worker loads the voice on the reply's first sentence (~1-3 s on a busy machine).
        await stream.until(TERMINAL, within_s=60)
    events: list[dict[str, Any]] = stream.seen
    assert events[-1]["__typename"] == "ReplyCompleted", events[-1]
    assert not [e for e in events if e["__typename"] == "ReplyDegraded"]
    chunks = [e for e in events if e["__typename"] == "AudioChunk"]
    assert chunks
    async with httpx.AsyncClient(timeout=10) as http:
        audio = await asyncio.gather(*(http.get(c["url"]) for c in chunks))
    for chunk, response in zip(chunks, audio, strict=True):
        (track,) = [
            e["frames"]
            for e in events[: events.index(chunk)]
            if e["__typename"] == "VisemeFrames" and e["audioSeq"] == chunk["seq"]
        ]
        duration_ms, samples = wav(response.content)
        assert duration_ms == chunk["durationMs"]
        assert track[0]["startMs"] == 0 and track[-1]["endMs"] == duration_ms
        assert all(a["endMs"] == b["startMs"] for a, b in zip(track, track[1:], strict=False))
        assert {f["viseme"] for f in track} - {"sil"}, "the mouth moves"
        # Piper normalises each sentence to full scale; espeak-ng (the fallback) peaks lower.
        assert max(abs(s) for s in samples) == 32767
    assert server.log is not None and "speaks instead" not in server.log.read_text()
