"""Cloud-like providers for bench/load.py, in a process of their own (pinned to the other core).

    .venv/bin/python -m uvicorn bench.load_providers:app

- ``POST /v1/chat/completions``: OpenAI-compatible chat-completions SSE, a reply of
  ``BENCH_LLM_SENTENCES`` tagged sentences at ``BENCH_LLM_RATE`` tokens/s. The last user
  message's marker (``m<person>-<k>``) keys the time its first token was sent (``GET /stats``),
  so the bench can tell the server's own delay before the first delta from the model's.
- ``POST /v1/text-to-speech/{voice}/stream/with-timestamps``: ElevenLabs-shaped NDJSON (base64
  ``pcm_22050`` plus character alignments) after ``BENCH_TTS_DELAY_S``, ~55 ms of audio per
  character, in 3 parts, as the real stream splits it.
- ``GET /v2/voices``: one voice, ``bench``, so a voice profile can name it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bench.scripted_reply import reply_tokens, sse

RATE = float(os.environ.get("BENCH_LLM_RATE", "40"))
SENTENCES = int(os.environ.get("BENCH_LLM_SENTENCES", "3"))
TTS_DELAY_S = float(os.environ.get("BENCH_TTS_DELAY_S", "0.08"))
PCM_RATE = 22050
MS_PER_CHAR = 55
MARKER = re.compile(r"\bm(\d+)-(\d+)\b")
first_token_at: dict[str, float] = {}


def marker_of(body: dict[str, Any]) -> str | None:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            found = MARKER.search(str(message.get("content")))
            return found.group(0) if found else None
    return None


async def chat(request: Request) -> Response:
    marker = marker_of(await request.json())

    async def stream() -> Any:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i, token in enumerate(reply_tokens(SENTENCES)):
            delay = start + i / RATE - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if marker is not None and marker not in first_token_at and token[0] != "[":
                first_token_at[marker] = time.time()  # the first text (tags are not shown)
            yield sse(token)
        yield sse(None, "stop") + "data: [DONE]\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


def speech(text: str) -> tuple[bytes, dict[str, list[Any]]]:
    """Quiet PCM ~55 ms per character, and each character's start and end in seconds."""
    samples = len(text) * MS_PER_CHAR * PCM_RATE // 1000
    pcm = bytes(2 * samples)
    step = MS_PER_CHAR / 1000
    alignment = {
        "characters": list(text),
        "character_start_times_seconds": [round(i * step, 3) for i in range(len(text))],
        "character_end_times_seconds": [round((i + 1) * step, 3) for i in range(len(text))],
    }
    return pcm, alignment


async def tts(request: Request) -> Response:
    text = str((await request.json()).get("text") or "")
    await asyncio.sleep(TTS_DELAY_S)
    pcm, align = speech(text)
    n, parts = len(text), 3

    async def lines() -> Any:
        for i in range(parts):
            a, b = len(pcm) // 2 * i // parts * 2, len(pcm) // 2 * (i + 1) // parts * 2
            c, d = n * i // parts, n * (i + 1) // parts
            part = {k: v[c:d] for k, v in align.items()}
            body = {
                "audio_base64": base64.b64encode(pcm[a:b]).decode(),
                "alignment": part,
                "normalized_alignment": part,
            }
            yield json.dumps(body) + "\n"
            await asyncio.sleep(0)

    return StreamingResponse(lines(), media_type="application/json")


async def voices(request: Request) -> Response:
    voice = {"voice_id": "bench", "name": "Bench", "labels": {"language": "en"}}
    return JSONResponse({"voices": [voice], "has_more": False, "total_count": 1})


async def stats(request: Request) -> Response:
    return JSONResponse(first_token_at)


async def readyz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/text-to-speech/{voice_id}/stream/with-timestamps", tts, methods=["POST"]),
        Route("/v2/voices", voices),
        Route("/stats", stats),
        Route("/readyz", readyz),
    ]
)
