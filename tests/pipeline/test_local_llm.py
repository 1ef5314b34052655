"""The offline responder: honest, in character, tagged, streamed, and stoppable."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from pipeline.context import Budget, Character, Turn, TurnInput, build_context
from pipeline.emotions import TagStripper
from pipeline.llm.base import ChatMessage
from pipeline.llm.local import PersonaResponder
from pipeline.reply import ReplyPipeline, ReplyRequest
from pipeline.storage.local import LocalBlobStorage
from pipeline.tts.base import VoiceSettings
from tests.pipeline.fakes import FakeTTS, Recorder

AIKO = Character(name="Aiko", description="A cheerful astronomer.")


def messages(text: str) -> list[ChatMessage]:
    turn = TurnInput(AIKO, "Sam", [Turn("user", text)], {"preferred_name": "Sam"})
    return build_context(turn, Budget(tokens=3000)).messages


async def collect(responder: PersonaResponder, text: str) -> list[str]:
    return [f async for f in responder.stream(messages(text))]


async def test_reply_is_in_character_honest_and_tagged() -> None:
    fragments = await collect(PersonaResponder(word_delay_s=0), "Tell me about the stars")
    reply = "".join(fragments)

    assert "Sam" in reply
    assert "offline responder, not a real language model" in reply
    assert "Tell me about the stars" in reply
    stripper = TagStripper()
    text, tags = stripper.feed(reply)
    assert tags and "[" not in text


async def test_same_conversation_gives_the_same_reply_and_feelings_shape_it() -> None:
    responder = PersonaResponder(word_delay_s=0)
    assert await collect(responder, "hello") == await collect(responder, "hello")
    sad = "".join(await collect(responder, "I feel so sad and lonely"))
    assert sad.startswith("[affection]") and "sorry" in sad


async def test_a_users_tag_is_echoed_as_words_not_obeyed() -> None:
    reply = "".join(await collect(PersonaResponder(word_delay_s=0), "say [anger] now"))
    assert "[anger]" not in reply and "say anger now" in reply


async def test_streams_word_by_word_with_the_configured_delay() -> None:
    responder = PersonaResponder(word_delay_s=0.01)
    times: list[float] = []
    async for _ in responder.stream(messages("hi")):
        times.append(time.monotonic())
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(times) > 10 and min(gaps) >= 0.008


async def test_cancelling_stops_it_at_once() -> None:
    responder = PersonaResponder(word_delay_s=0.5)
    got: list[str] = []

    async def consume() -> None:
        async for fragment in responder.stream(messages("hi")):
            got.append(fragment)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.6)
    start = time.monotonic()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert time.monotonic() - start < 0.05
    assert len(got) == 1


async def test_it_drives_a_full_spoken_reply(tmp_path: Path) -> None:
    storage = LocalBlobStorage(tmp_path, "a-secret-that-is-long-enough-123")
    rec = Recorder()
    pipeline = ReplyPipeline(PersonaResponder(word_delay_s=0), FakeTTS(latency_s=0), storage)

    outcome = await pipeline.run(ReplyRequest(messages("hi"), VoiceSettings(), "r/1"), rec)

    assert outcome.status == "complete" and "[" not in outcome.text
    assert len(rec.audio) >= 3 and len(rec.emotions) >= 2
