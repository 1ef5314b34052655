"""Another user's ``me`` latency while a 5-minute voice message is transcribed offline.

Starts the real server (uvicorn, 1 worker, SQLite). One user on the pro plan (granted through
the local checkout link; pro allows 5-minute messages) sends ``sendVoiceMessage`` with 5
minutes of espeak-ng speech at 16 kHz (25 everyday sentences, repeated). Meanwhile another user
asks ``me`` at a fixed rate (open loop over keep-alive connections: a slow answer does not slow
the sender, and latency counts from the scheduled send). Prints that user's p50/p99 before the
message and while it is transcribed, and how long the transcription took.

Runs with speech-to-text in its worker process (``HOLOMATE_STT_WORKERS=1``, the default), then,
for comparison, in the server's own process (``HOLOMATE_STT_WORKERS=0``: how it ran before).
The per-account and per-IP request limits are raised so the figures measure latency only.

    .venv/bin/python -m bench.abuse_voice [--seconds 300] [--rate 20] [--modes pool,inline]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.api_latency import Connection, percentile
from pipeline.audio import PcmAudio, pcm16_mono_at, pcm16_to_wav
from pipeline.tts.base import VoiceSettings
from pipeline.tts.espeak import render
from store.migrate import upgrade
from tests.support.server import live_server

ROOT = Path(__file__).resolve().parents[1]
ME = json.dumps({"query": "{ me { id } }"}).encode()
SEND_VOICE = """
mutation($c: ID!, $a: Upload!) {
  sendVoiceMessage(conversationId: $c, audio: $a) { text timings { sttMs } }
}
"""
RATE = 16000


def speech(seconds: float) -> bytes:
    """``seconds`` of espeak-ng speech as a 16 kHz mono WAV."""
    sentences = (ROOT / "tests/pipeline/everyday_sentences.txt").read_text().splitlines()
    spoken = render(". ".join(sentences), VoiceSettings())
    pcm = pcm16_mono_at(PcmAudio(spoken.pcm, spoken.sample_rate), RATE) + bytes(RATE)
    want = int(seconds * RATE) * 2
    return pcm16_to_wav((pcm * (want // len(pcm) + 1))[:want], RATE)


def ok(
    url: str, query: str, variables: dict[str, str] | None = None, token: str = ""
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = httpx.post(
        url, json={"query": query, "variables": variables or {}}, headers=headers, timeout=30
    ).json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def person(url: str, email: str) -> str:
    query = (
        'mutation($e: String!) { register(email: $e, password: "bench-password", '
        'displayName: "Bench") { accessToken } }'
    )
    token: str = ok(url, query, {"e": email})["register"]["accessToken"]
    return token


def pro_conversation(url: str, token: str) -> str:
    """Grant the pro plan with the local checkout link; start a conversation."""
    link = ok(url, 'mutation { startCheckout(plan: "pro") { url } }', token=token)
    assert httpx.get(link["startCheckout"]["url"], timeout=10).status_code == 303
    plan = ok(url, "{ billing { plan limits { voiceMessageSeconds } } }", token=token)
    assert plan["billing"]["plan"] == "pro", plan
    companion = ok(url, 'mutation { createCompanion(input: {name: "Mira"}) { id } }', token=token)
    started = ok(
        url,
        "mutation($c: ID!) { startConversation(companionId: $c) { id } }",
        {"c": companion["createCompanion"]["id"]},
        token,
    )
    conversation: str = started["startConversation"]["id"]
    return conversation


async def me_at_rate(
    url: str, token: str, rate: float, stop: asyncio.Event, failures: list[str]
) -> list[float]:
    """``me`` at ``rate`` per second until ``stop``: each latency in ms, from its scheduled
    time (answers with errors included, and added to ``failures``)."""
    parsed = httpx.URL(url)
    request = (
        f"POST {parsed.path} HTTP/1.1\r\nHost: {parsed.host}:{parsed.port}\r\n"
        f"Content-Type: application/json\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Length: {len(ME)}\r\n\r\n"
    ).encode() + ME
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(64):
        pool.put_nowait(Connection(*await asyncio.open_connection(parsed.host, parsed.port)))
    latencies: list[float] = []

    async def one(scheduled: float) -> None:
        conn = await pool.get()
        try:
            status, body = await conn.post(request)
        except (ConnectionError, asyncio.IncompleteReadError) as e:  # closed while it waited
            conn.writer.close()
            conn = Connection(*await asyncio.open_connection(parsed.host, parsed.port))
            status, body = 0, f"connection lost: {e!r}".encode()
        finally:
            pool.put_nowait(conn)
        latencies.append((time.perf_counter() - scheduled) * 1000)
        if status != 200 or b'"errors"' in body:  # e.g. OPERATION_TIMEOUT behind a stall
            failures.append(body[:120].decode(errors="replace"))

    tasks = []
    begin = time.perf_counter()
    i = 0
    while not stop.is_set():
        scheduled = begin + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            try:
                await asyncio.wait_for(stop.wait(), delay)
                break
            except TimeoutError:
                pass
        tasks.append(asyncio.create_task(one(scheduled)))
        i += 1
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait().writer.close()
    return latencies


async def send_voice(url: str, token: str, conversation: str, wav: bytes) -> dict[str, Any]:
    operations = {"query": SEND_VOICE, "variables": {"c": conversation, "a": None}}
    async with httpx.AsyncClient(timeout=3600) as client:
        response = await client.post(
            url,
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.a"]})},
            files={"0": ("voice.wav", wav, "audio/wav")},
            headers={"authorization": f"Bearer {token}"},
        )
    body: dict[str, Any] = response.json()
    return body


async def measure(
    url: str, speaker: str, conversation: str, other: str, wav: bytes, rate: float
) -> None:
    quiet_stop = asyncio.Event()
    failures: dict[str, list[str]] = {"before": [], "during": []}
    quiet = asyncio.create_task(me_at_rate(url, other, rate, quiet_stop, failures["before"]))
    await asyncio.sleep(5)
    quiet_stop.set()
    before = await quiet
    busy_stop = asyncio.Event()
    busy = asyncio.create_task(me_at_rate(url, other, rate, busy_stop, failures["during"]))
    started = time.perf_counter()
    body = await send_voice(url, speaker, conversation, wav)
    took = time.perf_counter() - started
    busy_stop.set()
    during = await busy
    for label, values in (("before", before), ("during", during)):
        print(
            f"  other user's me, {label} the message: {len(values)} requests, "
            f"p50 {percentile(values, 50):.1f} ms, p99 {percentile(values, 99):.1f} ms, "
            f"max {max(values):.0f} ms, {len(failures[label])} answered with an error"
            + (f" (first: {failures[label][0]})" if failures[label] else ""),
            flush=True,
        )
    if "errors" in body:
        raise RuntimeError(f"sendVoiceMessage failed after {took:.1f} s: {body['errors']}")
    message = body["data"]["sendVoiceMessage"]
    print(
        f"  sendVoiceMessage answered in {took:.1f} s (speech-to-text "
        f"{message['timings']['sttMs'] / 1000:.1f} s); heard {len(message['text']):,} characters: "
        f"{message['text'][:60]!r}...",
        flush=True,
    )


def run(mode: str, wav: bytes, rate: float) -> None:
    workers = {"pool": "1", "inline": "0"}[mode]
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        upgrade(database_url)
        with live_server(
            database_url,
            Path(tmp) / "storage",
            HOLOMATE_STT_WORKERS=workers,
            HOLOMATE_STT_TIMEOUT_S="1800",  # a figure even on a busy machine
            HOLOMATE_ACCESS_TOKEN_TTL_S="7200",
            HOLOMATE_RATE_LIMIT_ACCOUNT="1000/second",
            HOLOMATE_RATE_LIMIT_IP="1000/second",
        ) as server:
            url = server.graphql_url
            speaker = person(url, "speaker@example.com")
            conversation = pro_conversation(url, speaker)
            other = person(url, "other@example.com")
            print(f"{mode} (HOLOMATE_STT_WORKERS={workers}), me at {rate:g}/s:", flush=True)
            asyncio.run(measure(url, speaker, conversation, other, wav, rate))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300, help="of speech in the message")
    parser.add_argument("--rate", type=float, default=20, help="the other user's me per second")
    parser.add_argument("--modes", default="pool,inline")
    args = parser.parse_args()
    wav = speech(args.seconds)
    print(
        f"voice message: {args.seconds:g} s of speech, 16 kHz mono, {len(wav):,} bytes", flush=True
    )
    for mode in args.modes.split(","):
        run(mode, wav, args.rate)


if __name__ == "__main__":
    main()
