"""Voice input stalls no one: offline speech-to-text runs in worker processes, so other people's
requests are answered while a long message is decoded; a full waiting line answers
RATE_LIMITED, a message that outlives its timeout or whose worker dies answers a retryable
SERVICE_UNAVAILABLE, and the next message gets a fresh worker.

Nothing here is timed: each test waits for a state of the pool (a worker has taken the
message, one is waiting) and asserts on what happened meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings
from pipeline.stt.process_pool import ProcessPoolSTT
from tests.billing.helpers import START_CHECKOUT
from tests.conftest import broadcast_env
from tests.support.graphql import GraphQLClient, create_companion, register, start_conversation
from tests.support.processes import children, cpu_seconds
from tests.support.server import live_server
from tests.support.voice import send_voice, speech_wav
from tests.support.waiting import until

LONG_S = 40  # of speech: several seconds of decoding even on a quiet machine (Whisper: ~6 s)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"stt_queue": 1})


async def conversation_of(api: GraphQLClient, email: str) -> tuple[str, str]:
    token = (await register(api, email))["accessToken"]
    companion = await create_companion(api, token)
    return token, (await start_conversation(api, token, companion["id"]))["id"]


def pool_of(app: Starlette) -> ProcessPoolSTT:
    stt = app.state.holo.replies.providers.stt
    assert isinstance(stt, ProcessPoolSTT)
    return stt


async def decoding(app: Starlette, task: asyncio.Task[Any]) -> int:
    """Wait until a worker process is up and has taken the message; its pid."""
    pool = pool_of(app)
    await until(lambda: pool.running == 1 and bool(pool.worker_pids()) or task.done(), "decoding")
    assert not task.done(), task.result()
    return pool.worker_pids()[0]


def voice_task(
    http: httpx.AsyncClient, who: tuple[str, str], audio: bytes
) -> asyncio.Task[dict[str, Any]]:
    return asyncio.create_task(send_voice(http, who[0], who[1], audio))


async def test_others_are_answered_while_a_long_voice_message_is_transcribed(
    app: Starlette, http: httpx.AsyncClient, api: GraphQLClient
) -> None:
    speaker = await conversation_of(api, "speaker@example.com")
    other = (await register(api, "other@example.com"))["accessToken"]
    audio = speech_wav(LONG_S)  # made by this test process: not the server's work
    server_cpu = sum(os.times()[:2])
    voice = voice_task(http, speaker, audio)
    worker = await decoding(app, voice)
    for _ in range(10):
        data = await api.ok("{ me { email } }", token=other)
        assert data["me"]["email"] == "other@example.com"
    assert not voice.done()  # all ten answered while the decoder was still at work
    body = await voice
    assert "errors" not in body, body.get("errors")
    assert "hello" in body["data"]["sendVoiceMessage"]["text"].lower()
    # The decoding burnt the worker's CPU, not the server's (whose threads os.times counts).
    assert sum(os.times()[:2]) - server_cpu < cpu_seconds(worker)


async def scrape(http: httpx.AsyncClient) -> dict[str, float]:
    """The speech-to-text lines of /metrics, as an operator's scraper reads them."""
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    lines = (line.rpartition(" ") for line in response.text.splitlines())
    return {name: float(value) for name, _, value in lines if name.startswith("holomate_stt_")}


async def test_a_full_waiting_line_answers_rate_limited(
    app: Starlette, http: httpx.AsyncClient, api: GraphQLClient
) -> None:
    speaker = await conversation_of(api, "speaker@example.com")
    running = voice_task(http, speaker, speech_wav(LONG_S))
    pid = await decoding(app, running)
    waiting = voice_task(http, speaker, speech_wav())
    await until(lambda: pool_of(app).waiting == 1, "a second message waiting")
    refused = await send_voice(http, *speaker, speech_wav())  # one running, one waiting: full
    (error,) = refused["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 5}
    load = await scrape(http)
    assert load["holomate_stt_busy_workers"] == load["holomate_stt_waiting"] == 1
    assert load['holomate_stt_refused_total{reason="queue_full"}'] == 1
    os.kill(pid, signal.SIGKILL)  # end the long one early; the waiting one gets a new worker
    await running
    assert "errors" not in (await waiting), waiting.result().get("errors")


async def test_a_worker_killed_mid_message_answers_retryable_and_the_next_message_works(
    app: Starlette, http: httpx.AsyncClient, api: GraphQLClient
) -> None:
    speaker = await conversation_of(api, "speaker@example.com")
    voice = voice_task(http, speaker, speech_wav(LONG_S))
    pid = await decoding(app, voice)
    os.kill(pid, signal.SIGKILL)
    (error,) = (await voice)["errors"]
    assert error["extensions"] == {
        "code": "SERVICE_UNAVAILABLE",
        "retryable": True,
        "reason": "STT_WORKER_LOST",
    }
    assert (await scrape(http))['holomate_stt_refused_total{reason="worker_lost"}'] == 1
    body = await send_voice(http, *speaker, speech_wav())
    assert "errors" not in body, body.get("errors")
    assert "hello" in body["data"]["sendVoiceMessage"]["text"].lower()
    assert pool_of(app).worker_pids() not in ([], [pid])


async def _gone(pid: int, limit_s: float = 60) -> None:
    def exited() -> bool:
        stat = Path(f"/proc/{pid}/stat")
        with contextlib.suppress(OSError):
            return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
        return True

    await until(exited, f"worker {pid} stopped", limit_s)


async def test_a_message_that_outlives_the_timeout_is_stopped_with_its_worker(
    settings: Settings, clean_db: None
) -> None:
    app = create_app(settings.model_copy(update={"stt_timeout_s": 1.0}))
    async with app.router.lifespan_context(app), _client(app) as http:
        api = GraphQLClient(http)
        speaker = await conversation_of(api, "speaker@example.com")
        voice = voice_task(http, speaker, speech_wav(LONG_S))
        pid = await decoding(app, voice)
        (error,) = (await voice)["errors"]
        assert error["extensions"] == {
            "code": "SERVICE_UNAVAILABLE",
            "retryable": True,
            "reason": "STT_TIMEOUT",
        }
        assert pool_of(app).worker_pids() == []
        await _gone(pid)


async def test_shutting_the_app_down_stops_a_busy_worker(
    settings: Settings, clean_db: None
) -> None:
    app = create_app(settings)
    async with _client(app) as http:
        async with app.router.lifespan_context(app):
            speaker = await conversation_of(GraphQLClient(http), "speaker@example.com")
            voice = voice_task(http, speaker, speech_wav(LONG_S))
            pid = await decoding(app, voice)
        await _gone(pid)  # the lifespan ended: its pool's worker went with it
        (error,) = (await voice)["errors"]
        # The same answer whether the shutdown stopped its worker or closed the pool first.
        assert error["extensions"] == {
            "code": "SERVICE_UNAVAILABLE",
            "retryable": True,
            "reason": "SERVER_STOPPING",
        }


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def _workers_of(server_pid: int) -> list[int]:
    """Speech-to-text worker processes whose parent is ``server_pid``."""
    found = []
    for child in children(server_pid):
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
    return found


async def test_a_worker_dies_with_its_server(
    database_url: str, clean_db: None, tmp_path: Path
) -> None:
    """A server killed outright (no lifespan to stop its pool) takes its worker with it, rather
    than leaving it to decode a 3-minute message for nobody (a minute at least, on its own)."""
    with live_server(database_url, tmp_path / "storage", **broadcast_env()) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            api = GraphQLClient(http)
            speaker = await conversation_of(api, "speaker@example.com")
            checkout = await api.ok(START_CHECKOUT, {"plan": "plus"}, speaker[0])
            assert (await http.get(checkout["startCheckout"]["url"])).status_code == 303
            voice = voice_task(http, speaker, speech_wav(175))  # plus allows 180 s
            await until(lambda: bool(_workers_of(server.pid)) or voice.done(), "a worker")
            (worker,) = _workers_of(server.pid)
            os.kill(server.pid, signal.SIGKILL)
            with contextlib.suppress(httpx.HTTPError):
                await voice
        await _gone(worker, limit_s=20)
