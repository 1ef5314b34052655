"""Local HTTP servers speaking the OpenAI and ElevenLabs wire formats, for the official SDKs.

Real implementations with knobs: ``fail_with`` makes the next requests answer that status with
the provider's own error body; every request is recorded for assertions.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

GOOD_KEY = "sk-test-good"


@dataclass
class Wire:
    """What the fake saw and what it should do next."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_with: int | None = None
    speech_pcm: bytes = b""
    alignment: dict[str, list[Any]] = field(default_factory=dict)
    transcript: dict[str, Any] = field(default_factory=dict)
    voices_pages: list[list[dict[str, Any]]] = field(default_factory=list)


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """Run ``app`` on 127.0.0.1 with a free port in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="error", lifespan="off", ws="none", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


async def _record(wire: Wire, request: Request) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": request.url.path, "query": dict(request.query_params),
                             "headers": dict(request.headers)}  # fmt: skip
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form() as form:  # closes the spooled upload files
            entry["form"] = {
                k: (await v.read(), v.filename, v.content_type) if hasattr(v, "read") else v
                for k, v in form.multi_items()
            }
    elif request.method == "POST":
        entry["json"] = await request.json()
    wire.requests.append(entry)
    return entry


def openai_app(wire: Wire) -> Starlette:
    def error(status: int) -> JSONResponse:
        kinds = {401: ("Incorrect API key provided", "invalid_request_error", "invalid_api_key"),
                 429: ("Rate limit reached", "requests", "rate_limit_exceeded"),
                 500: ("The server had an error", "server_error", None)}  # fmt: skip
        message, kind, code = kinds.get(status, ("Bad request", "invalid_request_error", None))
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        return JSONResponse(body, status_code=status)

    def guard(request: Request) -> JSONResponse | None:
        if wire.fail_with is not None:
            return error(wire.fail_with)
        if request.headers.get("authorization") != f"Bearer {GOOD_KEY}":
            return error(401)
        return None

    async def speech(request: Request) -> Response:
        await _record(wire, request)
        return guard(request) or Response(wire.speech_pcm, media_type="application/octet-stream")

    async def transcriptions(request: Request) -> Response:
        await _record(wire, request)
        return guard(request) or JSONResponse(wire.transcript)

    return Starlette(routes=[
        Route("/v1/audio/speech", speech, methods=["POST"]),
        Route("/v1/audio/transcriptions", transcriptions, methods=["POST"]),
    ])  # fmt: skip


def elevenlabs_app(wire: Wire, chunks: int = 3) -> Starlette:
    def error(status: int) -> JSONResponse:
        statuses = {401: ("invalid_api_key", "Invalid API key"),
                    429: ("too_many_concurrent_requests", "Too many concurrent requests"),
                    500: ("internal_error", "Internal server error")}  # fmt: skip
        status_name, message = statuses.get(status, ("invalid_request", "Bad request"))
        return JSONResponse({"detail": {"status": status_name, "message": message}}, status)

    def guard(request: Request) -> JSONResponse | None:
        if wire.fail_with is not None:
            return error(wire.fail_with)
        if request.headers.get("xi-api-key") != GOOD_KEY:
            return error(401)
        return None

    async def tts_stream(request: Request) -> Response:
        await _record(wire, request)
        refused = guard(request)
        if refused:
            return refused
        pcm, align, n = wire.speech_pcm, wire.alignment, len(wire.alignment["characters"])

        async def lines() -> Any:
            for i in range(chunks):  # audio and alignment split like the real stream
                a, b = len(pcm) // 2 * i // chunks * 2, len(pcm) // 2 * (i + 1) // chunks * 2
                c, d = n * i // chunks, n * (i + 1) // chunks
                part = {k: v[c:d] for k, v in align.items()}
                body = {"audio_base64": base64.b64encode(pcm[a:b]).decode(),
                        "alignment": part, "normalized_alignment": part}  # fmt: skip
                yield json.dumps(body) + "\n"
                await asyncio.sleep(0)

        return StreamingResponse(lines(), media_type="application/json")

    async def voices(request: Request) -> Response:
        await _record(wire, request)
        refused = guard(request)
        if refused:
            return refused
        page = int(request.query_params.get("next_page_token") or 0)
        more = page + 1 < len(wire.voices_pages)
        return JSONResponse({"voices": wire.voices_pages[page], "has_more": more,
                             "total_count": sum(map(len, wire.voices_pages)),
                             "next_page_token": str(page + 1) if more else None})  # fmt: skip

    async def stt(request: Request) -> Response:
        await _record(wire, request)
        return guard(request) or JSONResponse(wire.transcript)

    return Starlette(routes=[
        Route("/v1/text-to-speech/{voice_id}/stream/with-timestamps", tts_stream, methods=["POST"]),
        Route("/v2/voices", voices, methods=["GET"]),
        Route("/v1/speech-to-text", stt, methods=["POST"]),
    ])  # fmt: skip


Factory = Callable[[Wire], Starlette]
