"""The OpenAI-compatible LLM through the official SDK against a local server that speaks the real
chat-completions SSE wire format (as Ollama and llama.cpp do)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from pipeline.errors import (
    ProviderAuthError,
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
)
from pipeline.llm.base import ChatMessage
from pipeline.llm.openai_llm import OpenAICompatibleLLM
from pipeline.ports import free_port

MESSAGES = [ChatMessage("system", "You are Aiko."), ChatMessage("user", "Hello?")]
FRAGMENTS = ["[joy] Hi", " there", "! How", " are you?"]


def chunk(content: str | None, *, role: bool = False, finish: str | None = None) -> str:
    """One ``chat.completion.chunk`` as an SSE event, shaped like OpenAI's and Ollama's."""
    delta: dict[str, Any] = {}
    if role:
        delta["role"] = "assistant"
    if content is not None:
        delta["content"] = content
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "test-model",
        "system_fingerprint": None,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


@dataclass
class FakeServer:
    """Behaviour is picked by the requested model name."""

    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    stream_closed_at: float | None = None

    async def completions(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        model = body["model"]
        if model.startswith("status-"):
            status = int(model.removeprefix("status-"))
            error = {"message": f"failure {status}", "type": "test_error", "code": None}
            return JSONResponse({"error": error}, status_code=status)
        source = {"ok": self.ok, "endless": self.endless, "broken": self.broken}[model]
        return StreamingResponse(source(), media_type="text/event-stream")

    async def ok(self) -> AsyncIterator[str]:
        yield chunk("", role=True)
        for fragment in FRAGMENTS:
            yield chunk(fragment)
        yield chunk(None, finish="stop")
        yield "data: [DONE]\n\n"

    async def endless(self) -> AsyncIterator[str]:
        try:
            yield chunk("", role=True)
            while True:
                yield chunk(" word")
                await asyncio.sleep(0.01)
        finally:
            self.stream_closed_at = time.monotonic()

    async def broken(self) -> AsyncIterator[str]:
        yield chunk("Partial")
        error = {"error": {"message": "model crashed", "type": "server_error"}}
        yield f"data: {json.dumps(error)}\n\n"


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    fake = FakeServer()
    app = Starlette(routes=[Route("/v1/chat/completions", fake.completions, methods=["POST"])])
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none"
    )
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    for _ in range(500):  # uvicorn offers no startup event to await
        if uv.started:
            break
        await asyncio.sleep(0.01)
    else:
        raise RuntimeError("test server did not start")
    fake.base_url = f"http://127.0.0.1:{port}/v1"
    yield fake
    uv.should_exit = True
    await task


def llm(server: FakeServer, model: str) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM(server.base_url, "sk-test", model, timeout=5, max_retries=0)


async def test_streams_content_fragments_in_order(server: FakeServer) -> None:
    client = llm(server, "ok")

    fragments = [f async for f in client.stream(MESSAGES)]
    await client.aclose()

    assert fragments == FRAGMENTS
    sent = server.requests[0]
    assert sent["stream"] is True and sent["model"] == "ok"
    assert sent["messages"] == [
        {"role": "system", "content": "You are Aiko."},
        {"role": "user", "content": "Hello?"},
    ]
    assert server.headers[0]["authorization"] == "Bearer sk-test"


async def test_works_without_an_api_key_like_local_servers(server: FakeServer) -> None:
    client = OpenAICompatibleLLM(server.base_url, "", "ok", max_retries=0)

    assert [f async for f in client.stream(MESSAGES)] == FRAGMENTS
    await client.aclose()


@pytest.mark.parametrize(
    ("status", "error", "retryable"),
    [
        (401, ProviderAuthError, False),
        (429, ProviderRateLimited, True),
        (500, ProviderUnavailable, True),
        (400, ProviderBadResponse, False),
    ],
)
async def test_http_errors_become_provider_errors(
    server: FakeServer, status: int, error: type[ProviderError], retryable: bool
) -> None:
    client = llm(server, f"status-{status}")

    with pytest.raises(error) as caught:
        [f async for f in client.stream(MESSAGES)]
    await client.aclose()

    assert type(caught.value) is error and caught.value.retryable is retryable
    assert caught.value.__cause__ is not None  # raised from the SDK error, for the logs


async def test_an_error_event_in_the_stream_is_a_bad_response(server: FakeServer) -> None:
    client = llm(server, "broken")
    received: list[str] = []

    with pytest.raises(ProviderBadResponse):
        async for fragment in client.stream(MESSAGES):
            received.append(fragment)
    await client.aclose()

    assert received == ["Partial"]


async def test_unreachable_endpoint_is_unavailable() -> None:
    client = OpenAICompatibleLLM(f"http://127.0.0.1:{free_port()}/v1", "k", "m", max_retries=0)

    with pytest.raises(ProviderUnavailable):
        [f async for f in client.stream(MESSAGES)]
    await client.aclose()


async def test_cancelling_the_consumer_closes_the_http_stream(server: FakeServer) -> None:
    client = llm(server, "endless")
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in client.stream(MESSAGES):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 2)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if server.stream_closed_at is not None:
            break
        await asyncio.sleep(0.005)
    await client.aclose()

    assert server.stream_closed_at is not None
    closed_ms = (server.stream_closed_at - cancelled_at) * 1000
    print(f"\nserver saw the stream closed {closed_ms:.1f} ms after cancel")
    assert closed_ms < 200
