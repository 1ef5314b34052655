"""The embedded default's model: SmolLM2 in a llama-server child streams a real reply through
the whole pipeline, stops with the server, and the persona responder stands in (saying so)
when the model cannot run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from pipeline.llm.llama_server import MODEL_NAME, EngineError, find_engine
from tests.conftest import broadcast_env
from tests.realtime.helpers import TERMINAL, setup_conversation, subscribed_then_sent
from tests.support.processes import children, running
from tests.support.server import LiveServer, live_server


def engine_missing() -> str:
    try:
        find_engine()
    except EngineError as e:
        return str(e)
    return ""


MISSING = engine_missing()


def children_named(pid: int, name: str) -> list[int]:
    """Processes whose parent is ``pid`` and whose command is ``name``."""
    found = []
    for child in children(pid):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{child}/comm").read_text().strip() == name:
                found.append(child)
    return found


async def reply_to(server: LiveServer, text: str, within_s: float = 30) -> list[dict[str, Any]]:
    world = setup_conversation(server)
    async with subscribed_then_sent(server, world, text) as stream:
        await stream.until(TERMINAL, within_s)
    return stream.seen


def of_kind(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["__typename"] == kind]


@pytest.mark.slow
@pytest.mark.xdist_group("local-model")  # one model at a time on two cores
@pytest.mark.skipif(
    bool(engine_missing()), reason=f"local model cannot run here: {engine_missing()}"
)
async def test_the_local_model_streams_a_real_reply_and_stops_with_the_server(
    database_url: str, clean_db: None, tmp_path: Path
) -> None:
    env = {"HOLOMATE_LLM_ENGINE": "local", "HOLOMATE_LLM_LOCAL_DIR": str(tmp_path / "models")}
    with live_server(database_url, tmp_path / "storage", **env, **broadcast_env()) as server:
        (engine,) = children_named(server.pid, "llama-server")
        events = await reply_to(server, "Hi Mira! What is your favourite planet?", within_s=120)
        (started,) = of_kind(events, "ReplyStarted")
        assert started == {**started, "model": MODEL_NAME, "fallback": False}
        deltas = of_kind(events, "MessageDelta")
        assert events[-1]["__typename"] == "ReplyCompleted", events[-1]
        text = events[-1]["message"]["text"]
        assert text.strip() and "".join(d["text"] for d in deltas) == text
        assert "You said:" not in text  # not the persona responder's echo
        assert running(engine)
    deadline = time.monotonic() + 10
    while running(engine) and time.monotonic() < deadline:  # noqa: ASYNC110 - /proc, no event
        await asyncio.sleep(0.1)
    assert not running(engine), "llama-server outlived the server"


@pytest.mark.slow
@pytest.mark.xdist_group("local-model")
@pytest.mark.skipif(
    bool(engine_missing()), reason=f"local model cannot run here: {engine_missing()}"
)
async def test_the_model_server_stops_even_when_the_server_is_killed(
    database_url: str, clean_db: None, tmp_path: Path
) -> None:
    env = {"HOLOMATE_LLM_ENGINE": "local", "HOLOMATE_LLM_LOCAL_DIR": str(tmp_path / "models")}
    with live_server(database_url, tmp_path / "storage", **env, **broadcast_env()) as server:
        (engine,) = children_named(server.pid, "llama-server")
        os.kill(server.pid, signal.SIGKILL)  # no lifespan shutdown: the kernel must tell it
        deadline = time.monotonic() + 10
        while running(engine) and time.monotonic() < deadline:  # noqa: ASYNC110 - /proc, no event
            await asyncio.sleep(0.1)
        assert not running(engine), "llama-server outlived a killed server"


async def test_without_the_engine_the_persona_responder_answers_and_says_so(
    database_url: str, clean_db: None, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-llama-server"
    env = {"HOLOMATE_LLM_ENGINE": "local", "HOLOMATE_LLM_LOCAL_SERVER": str(missing)}
    with live_server(database_url, tmp_path / "storage", **env, **broadcast_env()) as server:
        events = await reply_to(server, "Hello Mira!")
    (started,) = of_kind(events, "ReplyStarted")
    assert started["model"] == "persona-responder" and started["fallback"] is True
    assert events[-1]["__typename"] == "ReplyCompleted"
    assert events[-1]["message"]["text"]


async def test_an_engine_that_fails_to_start_falls_back_to_the_persona_responder(
    database_url: str, clean_db: None, tmp_path: Path
) -> None:
    broken = tmp_path / "llama-server"
    broken.write_text("#!/bin/sh\necho 'error: cannot load model' >&2\nexit 1\n")
    broken.chmod(broken.stat().st_mode | stat.S_IXUSR)
    env = {
        "HOLOMATE_LLM_ENGINE": "local",
        "HOLOMATE_LLM_LOCAL_SERVER": str(broken),
        "HOLOMATE_LLM_LOCAL_DIR": str(tmp_path / "models"),
    }
    with live_server(database_url, tmp_path / "storage", **env, **broadcast_env()) as server:
        events = await reply_to(server, "Hello Mira!")
        assert server.log is not None and "cannot load model" in server.log.read_text()
    (started,) = of_kind(events, "ReplyStarted")
    assert started["model"] == "persona-responder" and started["fallback"] is True
    assert events[-1]["__typename"] == "ReplyCompleted"


async def test_the_suite_answers_with_the_persona_responder_by_choice_not_as_a_fallback(
    server: LiveServer,
) -> None:
    assert os.environ["HOLOMATE_LLM_ENGINE"] == "responder"
    assert children_named(server.pid, "llama-server") == []
    events = await reply_to(server, "Hello Mira!")
    (started,) = of_kind(events, "ReplyStarted")
    assert started["model"] == "persona-responder" and started["fallback"] is False
