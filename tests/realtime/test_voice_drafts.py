"""Hands-free replies begun while the person pauses: the model is asked for the reply to what
the pause's transcript says before the turn has ended; a turn that ends there is answered by
that one request, and speech going on stops it and asks again for the whole turn. The model is
an OpenAI-compatible test server speaking the real streaming wire format."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from gql.transport.websockets import WebsocketsTransport
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.conftest import broadcast_env
from tests.pipeline.wire_servers import GOOD_KEY, serve
from tests.realtime.helpers import setup_conversation
from tests.realtime.test_voice_sessions import talking
from tests.realtime.voice_client import Events, Mic, silence, speech_pcm
from tests.support.server import LiveServer, live_server
from tests.support.waiting import until

WORDS = ["Oh, ", "how ", "lovely. ", "Tell ", "me ", "more ", "about ", "your ", "garden, "]
WORDS += ["please. ", "I ", "would ", "love ", "to ", "hear ", "it."]
REPLY = "".join(WORDS).strip()
WORD_S = 0.08  # the model writes a word every 80 ms: a draft dropped at once is left unfinished
END_SILENCE_MS = (
    5000  # the longest allowed: the early final (0.3-3 s into the pause) ends before it
)


def _chunk(content: str | None, finish: str | None = None) -> str:
    delta = {} if content is None else {"content": content}
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "fake-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def recording_model(calls: list[dict[str, Any]]) -> Starlette:
    """Streams ``WORDS``; records each request's last user message, when it came, how many
    words went out and whether the stream was read to its end."""

    async def completions(request: Request) -> Response:
        body = await request.json()
        user = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
        call: dict[str, Any] = {"user": user, "at": time.monotonic(), "sent": 0, "whole": False}
        calls.append(call)

        async def stream() -> AsyncIterator[str]:
            for word in WORDS:
                await asyncio.sleep(WORD_S)
                yield _chunk(word)
                call["sent"] += 1
            yield _chunk(None, "stop")
            yield "data: [DONE]\n\n"
            call["whole"] = True  # resumed only once [DONE] was written to a reader

        return StreamingResponse(stream(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


@pytest.fixture
def drafting_server(
    database_url: str, clean_db: None, tmp_path: Path
) -> Iterator[tuple[LiveServer, list[dict[str, Any]]]]:
    calls: list[dict[str, Any]] = []
    with serve(recording_model(calls)) as base:
        env = {
            "HOLOMATE_OPENAI_API_KEY": GOOD_KEY,
            "HOLOMATE_OPENAI_BASE_URL": f"{base}/v1",
            "HOLOMATE_LLM_MODEL": "fake-model",
            "HOLOMATE_VOICE_END_SILENCE_MS": str(END_SILENCE_MS),
            "HOLOMATE_VOICE_PARTIAL_INTERVAL_MS": "0",
            **broadcast_env(),
        }
        with live_server(database_url, tmp_path / "storage", **env) as server:
            yield server, calls


@asynccontextmanager
async def said_hello(server: LiveServer) -> AsyncIterator[tuple[Mic, Events]]:
    """A voice session that heard a question, and the pause after it going on."""
    world = setup_conversation(server)
    async with talking(server, world, WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL) as (mic, events):
        await mic.stream(silence(800) + speech_pcm("hello how are you today") + silence(300))
        yield mic, events


async def test_a_turn_that_ends_in_the_pause_is_answered_by_the_reply_begun_in_it(
    drafting_server: tuple[LiveServer, list[dict[str, Any]]],
) -> None:
    server, calls = drafting_server
    async with said_hello(server) as (mic, events):
        ended = await mic.quiet_until(events.until("VoiceTurnEnded", 30, sessionId=mic.id))
        turn_ended_at = time.monotonic()
        final = await mic.quiet_until(events.until("VoiceFinalTranscript", 30, sessionId=mic.id))
        completed = await mic.quiet_until(events.until("ReplyCompleted", 30))

    assert ended["endMs"] - ended["startMs"] > 500
    assert final["outcome"] == "MESSAGE" and "how are you" in final["text"].lower()
    # One request, made while the person was still pausing, read to its end by the reply.
    assert len(calls) == 1, calls
    assert calls[0]["at"] < turn_ended_at
    assert calls[0]["whole"] and calls[0]["user"] == final["text"]
    assert completed["message"]["text"] == REPLY


async def test_speaking_on_after_a_pause_stops_its_draft_and_the_whole_turn_is_answered(
    drafting_server: tuple[LiveServer, list[dict[str, Any]]],
) -> None:
    server, calls = drafting_server
    async with said_hello(server) as (mic, events):
        await mic.quiet_until(until(lambda: bool(calls), "the pause's draft asked for", 30))
        await mic.stream(speech_pcm("tell me about your garden") + silence(300))
        final = await mic.quiet_until(events.until("VoiceFinalTranscript", 60, sessionId=mic.id))
        completed = await mic.quiet_until(events.until("ReplyCompleted", 30))
        await asyncio.sleep(2 * WORD_S)  # a draft that were still written would send more

    assert final["outcome"] == "MESSAGE" and "garden" in final["text"].lower()
    first, *rest = calls
    # The first pause's draft: its words only, stopped as the person went on.
    assert "garden" not in first["user"].lower()
    assert not first["whole"] and first["sent"] < len(WORDS)
    # The reply answers the whole turn, in the one request read to its end.
    assert [c["user"] for c in calls if c["whole"]] == [final["text"]]
    assert rest and rest[-1]["whole"]
    assert completed["message"]["text"] == REPLY
