"""An operator's collector receives one trace per turn: a voice message sent to a running server
(OTLP/HTTP export on, protobuf as on the wire) arrives as the ``mutation Voice`` span, and under
it speech-to-text, the prompt, the background reply with its model, each sentence's speech and
mouth track, its stored audio, every publish, and the SQL (and Redis) work they did; the turn's
log line names the same trace."""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import httpx

from tests.conftest import broadcast_env
from tests.realtime.helpers import setup_conversation
from tests.support.otlp import Span, otlp_receiver
from tests.support.server import live_server
from tests.support.voice import send_voice, speech_wav

# Each sentence of a reply is spoken, aligned and stored; the rest happens once a turn.
ONCE = ("stt", "prompt", "reply", "llm", "reply.save")
PER_SENTENCE = ("tts.sentence", "visemes.align", "storage.put")


def ancestors(span: Span, by_id: dict[str, Span]) -> list[str]:
    names = []
    while span.parent_id in by_id:
        span = by_id[span.parent_id]
        names.append(span.name)
    return names


def finished_turn(spans: list[Span]) -> bool:
    return any(s.name == "reply" for s in spans)


async def test_a_turn_is_one_trace_from_the_mutation_through_the_background_reply(
    database_url: str, clean_db: None, tmp_path: Path
) -> None:
    env = {
        **broadcast_env(),
        "HOLOMATE_STT_PROVIDER": "pocketsphinx",  # quick to load: the spans are the point
        "HOLOMATE_LOG_FORMAT": "json",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        # Speech in the server's own process, the model without pauses: a quick turn.
        "HOLOMATE_STT_WORKERS": "0",
        "HOLOMATE_SPEECH_WORKERS": "0",
        "HOLOMATE_OFFLINE_LLM_WORD_DELAY_S": "0",
    }
    with (
        otlp_receiver() as (endpoint, receiver),
        live_server(
            database_url, tmp_path / "storage", HOLOMATE_OTLP_ENDPOINT=endpoint, **env
        ) as server,
    ):
        world = await asyncio.to_thread(setup_conversation, server)
        async with httpx.AsyncClient(base_url=server.url) as http:
            body = await send_voice(http, world["token"], world["conversation"], speech_wav())
            assert "errors" not in body, body["errors"]
            await asyncio.to_thread(receiver.wait_for, finished_turn)
            spans = await asyncio.to_thread(receiver.settled)  # the work after it, too
            metrics = (await http.get("/metrics", timeout=10)).text
        assert server.log is not None
        output = server.log.read_text()

    assert receiver.content_types == {"application/x-protobuf"}
    mutation = next(s for s in spans if s.name == "mutation Voice")
    assert mutation.kind == 2  # SERVER
    assert mutation.attributes["graphql.operation.type"] == "mutation"
    assert mutation.attributes["graphql.operation.name"] == "Voice"
    assert mutation.parent_id == "" and mutation.service == "holomate"
    assert {s.name for s in spans if s.trace_id == mutation.trace_id and s.parent_id == ""} == {
        "mutation Voice"
    }
    turn = [s for s in spans if s.trace_id == mutation.trace_id]
    by_id = {s.span_id: s for s in turn}
    names = [s.name for s in turn]
    for name in ONCE:
        assert names.count(name) == 1, (name, sorted(names))
    sentences = names.count("tts.sentence")
    assert sentences >= 1 and all(names.count(n) == sentences for n in PER_SENTENCE), names
    assert names.count("publish") >= 3  # posted, a delta, audio, the end...
    for span in turn:
        if span is not mutation:
            assert "mutation Voice" in ancestors(span, by_id), (span.name, span.parent_id)
    for name in ("stt", "prompt", "reply"):  # the request's own work, and the one it started
        assert all(ancestors(s, by_id)[0] == "mutation Voice" for s in turn if s.name == name)
    reply = next(s for s in turn if s.name == "reply")
    assert reply.attributes["holomate.reply.status"] == "complete"
    for name in ("llm", "tts.sentence", "storage.put", "reply.save"):
        assert all(ancestors(s, by_id)[0] == "reply" for s in turn if s.name == name), name
    aligned = [s for s in turn if s.name == "visemes.align"]
    assert all(by_id[s.parent_id].name == "tts.sentence" for s in aligned)
    assert all(s.attributes["holomate.visemes.frames"] > 0 for s in aligned)
    llm = next(s for s in turn if s.name == "llm")
    assert llm.attributes["gen_ai.usage.output_tokens"] > 0
    reply_ms = (reply.end_ns - reply.start_ns) / 1e6
    assert 0 <= llm.attributes["holomate.llm.first_token_ms"] < reply_ms
    sql = [s for s in turn if "db.system" in s.attributes or "db.system.name" in s.attributes]
    assert any("mutation Voice" == ancestors(s, by_id)[0] for s in sql)  # the message's INSERT
    assert any("reply.save" in ancestors(s, by_id) for s in sql)
    # Redis carried the turn's events: its commands are in the trace, and /metrics probes it.
    redis = bool(os.environ.get("HOLOMATE_TEST_BROADCAST_URL"))
    if redis:
        assert any("reply" in ancestors(s, by_id) for s in turn if s.scope.endswith("redis"))
    assert 'holomate_dependency_up{dependency="database"} 1.0' in metrics
    assert ('holomate_dependency_up{dependency="redis"} 1.0' in metrics) == redis

    # The turn's log line: its request, operation, (hashed) user and trace.
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    ended = next(x for x in lines if re.fullmatch(r"reply \d+ complete in \d+ ms", x["message"]))
    assert ended["trace_id"] == mutation.trace_id
    assert ended["operation"] == "mutation Voice"
    assert len(ended["request_id"]) == 16 and len(ended["user"]) == 16
    assert world["token"] not in output
