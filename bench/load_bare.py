"""The bare pipeline for bench/load.py: the same provider I/O and the same events, nothing else.

    .venv/bin/python -m uvicorn bench.load_bare:app --ws-per-message-deflate false

Each person has two WebSockets (``authorization`` in ``connection_init`` is ``<person>:app`` or
``<person>:holo``; just enough graphql-transport-ws for bench/load.py's clients). ``POST /send``
``{"person", "text"}`` runs one reply as the real server does: the LLM's SSE stream (same
endpoint), deltas merged into ~50 ms batches, each sentence's speech fetched from the
ElevenLabs-shaped endpoint and written to disk as WAV, then EmotionChanged, VisemeFrames and
AudioChunk in sentence order, ReplyCompleted. Every event is serialised once as JSON, with
``at``, and written to the person's two sockets. No GraphQL, no log, no database, no auth.

``BENCH_BARE_PROVIDERS=sdk`` calls the providers through the official SDKs the server uses
(``openai``, ``elevenlabs``) instead of plain httpx and ``json``: what is left between the two
is then the server's own work, not the SDKs' parsing.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from pipeline.audio import pcm16_to_wav

PROTOCOL = "graphql-transport-ws"
LLM = os.environ.get("HOLOMATE_LLM_BASE_URL", "http://127.0.0.1:1/v1")
TTS = os.environ.get("HOLOMATE_ELEVENLABS_BASE_URL", "http://127.0.0.1:1")
STORAGE = Path(os.environ.get("HOLOMATE_STORAGE_DIR") or tempfile.mkdtemp())
TAG = re.compile(r"\[[a-z]+\]")
_sockets: dict[str, list[asyncio.Queue[str | None]]] = {}
_tasks: set[asyncio.Task[None]] = set()
_http: list[httpx.AsyncClient] = []
SDK = os.environ.get("BENCH_BARE_PROVIDERS", "http") == "sdk"
_sdks: dict[str, Any] = {}


def http() -> httpx.AsyncClient:
    if not _http:
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
        _http.append(httpx.AsyncClient(timeout=60, limits=limits))
    return _http[0]


async def graphql_ws(websocket: WebSocket) -> None:
    await websocket.accept(subprotocol=PROTOCOL)
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    person = ""
    try:
        init = json.loads(await websocket.receive_text())
        person = str((init.get("payload") or {}).get("authorization", "")).split(":")[0]
        await websocket.send_text('{"type":"connection_ack"}')
        await websocket.receive_text()  # subscribe
        _sockets.setdefault(person, []).append(queue)
        while (text := await queue.get()) is not None:
            await websocket.send_text(text)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        if queue in _sockets.get(person, []):
            _sockets[person].remove(queue)


def publish(person: str, typename: str, **fields: Any) -> None:
    body = {"__typename": typename, "at": datetime.now(UTC).isoformat(), **fields}
    text = json.dumps(
        {"id": "1", "type": "next", "payload": {"data": {"conversationEvents": body}}},
        separators=(",", ":"),
    )
    for queue in _sockets.get(person, ()):
        queue.put_nowait(text)


def sdk(name: str) -> Any:
    if not _sdks:
        from elevenlabs import AsyncElevenLabs
        from openai import AsyncOpenAI

        _sdks["llm"] = AsyncOpenAI(base_url=LLM, api_key="bench", max_retries=1)
        _sdks["tts"] = AsyncElevenLabs(api_key="bench", base_url=TTS, httpx_client=http())
    return _sdks[name]


async def speech_parts(text: str) -> AsyncIterator[tuple[str, list[str], list[float], list[float]]]:
    """(base64 PCM, characters, starts, ends) per streamed part."""
    if SDK:
        from elevenlabs import VoiceSettings

        stream = sdk("tts").text_to_speech.stream_with_timestamps(
            "bench",
            text=text,
            model_id="eleven_flash_v2_5",
            output_format="pcm_22050",
            voice_settings=VoiceSettings(stability=0.5, similarity_boost=0.75, speed=1.0),
        )
        async for chunk in stream:
            a = chunk.normalized_alignment
            yield chunk.audio_base_64 or "", a.characters, a.character_start_times_seconds, \
                a.character_end_times_seconds  # fmt: skip
        return
    url = f"{TTS}/v1/text-to-speech/bench/stream/with-timestamps?output_format=pcm_22050"
    async with http().stream("POST", url, json={"text": text}) as response:
        async for line in response.aiter_lines():
            if not line:
                continue
            part = json.loads(line)
            a = part["normalized_alignment"]
            yield part["audio_base64"], a["characters"], a["character_start_times_seconds"], \
                a["character_end_times_seconds"]  # fmt: skip


async def llm_text(text: str) -> AsyncIterator[str]:
    messages = [{"role": "user", "content": text}]
    if SDK:
        stream = await sdk("llm").chat.completions.create(
            model="bench", messages=messages, stream=True
        )
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content
        return
    body = {"model": "bench", "stream": True, "messages": messages}
    async with http().stream("POST", f"{LLM}/chat/completions", json=body) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            content = json.loads(line[6:])["choices"][0]["delta"].get("content")
            if content:
                yield content


async def speak(person: str, seq: int, text: str) -> tuple[bytes, list[dict[str, Any]], int]:
    pcm = bytearray()
    frames: list[dict[str, Any]] = []
    async for audio, characters, starts, ends in speech_parts(text):
        pcm += base64.b64decode(audio)
        for ch, start, end in zip(characters, starts, ends, strict=True):
            if ch.isalpha():
                frames.append({"viseme": ch, "startMs": int(start * 1000),
                               "endMs": int(end * 1000), "weight": 1.0})  # fmt: skip
    wav = pcm16_to_wav(bytes(pcm), 22050)
    path = STORAGE / person / f"{seq}.wav"
    await asyncio.to_thread(_write, path, wav)
    return wav, frames, round(len(pcm) / 2 * 1000 / 22050)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


async def reply(person: str, text: str) -> None:
    publish(person, "MessagePosted", message={"id": "u", "text": text, "role": "USER"})
    publish(person, "ReplyStarted", model="bench")
    loop = asyncio.get_running_loop()
    slots = asyncio.Semaphore(2)
    speech: list[tuple[str, asyncio.Task[tuple[bytes, list[dict[str, Any]], int]]]] = []
    shown, pending, sentence, seq = [], "", "", 0
    last_flush = 0.0

    async def limited(n: int, words: str) -> tuple[bytes, list[dict[str, Any]], int]:
        async with slots:
            return await speak(person, n, words)

    async for content in llm_text(text):
        clean = TAG.sub("", content)
        pending += clean
        sentence += clean
        now = loop.time()
        if pending and (not seq or now - last_flush >= 0.05):
            publish(person, "MessageDelta", seq=seq, text=pending)
            shown.append(pending)
            pending, seq, last_flush = "", seq + 1, now
        if sentence.endswith("."):
            task = asyncio.create_task(limited(len(speech), sentence.strip()))
            speech.append((sentence.strip(), task))
            sentence = ""
    if pending:
        publish(person, "MessageDelta", seq=seq, text=pending)
        shown.append(pending)
    start_ms = 0
    for n, (words, task) in enumerate(speech):
        _, frames, duration = await task
        publish(person, "EmotionChanged", emotion="JOY", intensity=0.6, atMs=start_ms)
        publish(person, "VisemeFrames", audioSeq=n, frames=frames)
        url = f"/media/{person}/{n}.wav"
        publish(person, "AudioChunk", seq=n, url=url, mimeType="audio/wav",
                startMs=start_ms, durationMs=duration, text=words)  # fmt: skip
        start_ms += duration
    publish(person, "ReplyCompleted", message={"id": "r", "text": "".join(shown),
                                               "status": "COMPLETE"})  # fmt: skip


async def send(request: Request) -> JSONResponse:
    body = await request.json()
    task = asyncio.create_task(reply(str(body["person"]), str(body["text"])))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return JSONResponse({"id": "u"})


async def readyz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        WebSocketRoute("/graphql", graphql_ws),
        Route("/send", send, methods=["POST"]),
        Route("/readyz", readyz),
    ]
)
