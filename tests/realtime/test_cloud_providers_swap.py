"""Settings swap the offline providers for cloud ones without touching the schema: the same
conversation stream, now from an OpenAI-compatible model and OpenAI speech (both served by a
local fake speaking their real wire formats)."""

from __future__ import annotations

import io
import json
import math
import struct
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql.transport.websockets import WebsocketsTransport
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.pipeline.wire_servers import GOOD_KEY, serve
from tests.realtime.helpers import ok, setup_conversation
from tests.realtime.test_live_reply import subscribe_then_send
from tests.support.server import LiveServer, live_server

MODEL_TEXT = [
    "[joy] ",
    "Hello ",
    "from ",
    "the ",
    "cloud ",
    "model. ",
    "[thinking] ",
    "Shall ",
    "we ",
    "look ",
    "at ",
    "Saturn?",
]


def _chunk(content: str | None, finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "delta": {} if content is None else {"content": content},
                "finish_reason": finish,
            }
        ],
    }
    return f"data: {json.dumps(body)}\n\n"


def fake_openai(seen: list[str]) -> Starlette:
    async def completions(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {GOOD_KEY}":
            return JSONResponse(
                {
                    "error": {
                        "message": "bad key",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "invalid_api_key",
                    }
                },
                401,
            )
        seen.append("chat")

        async def stream() -> AsyncIterator[str]:
            for piece in MODEL_TEXT:
                yield _chunk(piece)
            yield _chunk(None, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def speech(request: Request) -> Response:
        body = await request.json()
        seen.append(f"speech:{body['voice']}:{body.get('response_format')}")
        # 0.6 s of a 220 Hz tone as raw 24 kHz 16-bit PCM, as OpenAI sends for "pcm".
        samples = (int(8000 * math.sin(2 * math.pi * 220 * i / 24000)) for i in range(14400))
        return Response(
            b"".join(struct.pack("<h", s) for s in samples), media_type="application/octet-stream"
        )

    return Starlette(
        routes=[
            Route("/v1/chat/completions", completions, methods=["POST"]),
            Route("/v1/audio/speech", speech, methods=["POST"]),
        ]
    )


@pytest.fixture
def cloud_server(
    database_url: str, clean_db: None, tmp_path: Path
) -> Iterator[tuple[LiveServer, list[str]]]:
    seen: list[str] = []
    with serve(fake_openai(seen)) as base:
        env = {
            "HOLOMATE_OPENAI_API_KEY": GOOD_KEY,
            "HOLOMATE_OPENAI_BASE_URL": f"{base}/v1",
            "HOLOMATE_LLM_MODEL": "fake-model",
        }
        with live_server(database_url, tmp_path / "storage", **env) as server:
            yield server, seen


async def test_openai_model_and_voice_drive_the_same_stream(
    cloud_server: tuple[LiveServer, list[str]],
) -> None:
    server, seen = cloud_server
    world = setup_conversation(server)
    profile = ok(
        server,
        'mutation { createVoiceProfile(input: {name: "Nova", provider: '
        '"openai", voiceId: "nova"}) { id provider } }',
        token=world["token"],
    )["createVoiceProfile"]
    ok(
        server,
        "mutation($c: ID!, $v: ID!) { updateCompanion(id: $c, input: {voiceProfileId: "
        "$v}) { id } }",
        {"c": world["companion"], "v": profile["id"]},
        world["token"],
    )
    events = await subscribe_then_send(
        server, world, WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL, "Hi!"
    )
    final: dict[str, Any] = events[-1]
    assert final["__typename"] == "ReplyCompleted"
    assert final["message"]["text"] == "Hello from the cloud model. Shall we look at Saturn?"
    emotions = [e["emotion"] for e in events if e["__typename"] == "EmotionChanged"]
    assert emotions[:2] == ["joy", "thinking"]
    chunk = next(e for e in events if e["__typename"] == "AudioChunk")
    async with httpx.AsyncClient() as http:
        audio = (await http.get(chunk["url"])).content
    with wave.open(io.BytesIO(audio)) as wav:
        assert wav.getframerate() == 24000  # OpenAI's PCM, not espeak's 22050 Hz
    assert chunk["durationMs"] == 600
    assert "chat" in seen and "speech:nova:pcm" in seen
