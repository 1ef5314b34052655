"""A reply begun while the person pauses: the model is asked once, what it wrote meanwhile is
read at once, and a draft nobody needs stops the model."""

from __future__ import annotations

import asyncio

from pipeline.errors import ProviderUnavailable
from pipeline.llm.base import ChatMessage, answering
from pipeline.llm.draft import Draft
from tests.pipeline.fakes import ScriptedLLM
from tests.support.waiting import until

ASKED = [ChatMessage("system", "You are Mira."), ChatMessage("user", "Hello there")]
WORDS = ["Hi", " Ada.", " How", " are", " you?"]


async def read_all(draft: Draft) -> list[str]:
    return [fragment async for fragment in draft.take().stream(ASKED)]


async def test_a_taken_draft_gives_what_was_written_at_once_then_the_rest() -> None:
    llm = ScriptedLLM(WORDS, delay_s=0.05)
    draft = Draft(llm, ASKED)
    await until(lambda: len(llm.yielded_at) >= 2, "two words written")
    started = asyncio.get_running_loop().time()
    reply = draft.take().stream(ASKED)
    assert [await anext(reply), await anext(reply)] == WORDS[:2]
    assert asyncio.get_running_loop().time() - started < 0.04  # not written again
    assert [f async for f in reply] == WORDS[2:]
    assert llm.seen == ASKED and llm.finished


async def test_a_draft_fits_only_the_prompt_it_was_written_for_and_only_once() -> None:
    draft = Draft(ScriptedLLM(WORDS), ASKED)
    other = [*ASKED[:1], ChatMessage("user", "Hello there, and goodbye")]
    assert not draft.fits(other)
    assert draft.fits(list(ASKED))
    await read_all(draft)
    assert not draft.fits(list(ASKED))  # taken


async def test_a_draft_nobody_needs_stops_the_model() -> None:
    llm = ScriptedLLM(WORDS * 20, delay_s=0.02)
    draft = Draft(llm, ASKED)
    await until(lambda: bool(llm.yielded_at), "the model started")
    draft.cancel()
    await until(lambda: llm.stopped_at is not None, "the model stopped", 2)
    assert llm.cancelled and not llm.finished


async def test_a_reply_that_stops_reading_its_draft_stops_the_model() -> None:
    """Interrupted by the person, say: the model must not write on for nobody."""
    llm = ScriptedLLM(WORDS * 20, delay_s=0.02)
    reply = Draft(llm, ASKED).take().stream(ASKED)
    assert await anext(reply) == "Hi"
    await reply.aclose()  # type: ignore[attr-defined]  # an async generator
    await until(lambda: llm.stopped_at is not None, "the model stopped", 2)
    assert llm.cancelled and not llm.finished


async def test_a_taken_draft_is_not_cancelled_by_the_turn_that_made_it() -> None:
    llm = ScriptedLLM(WORDS, delay_s=0.02)
    draft = Draft(llm, ASKED)
    reply = draft.take()
    draft.cancel()  # the voice session lets go of it once the message was sent
    assert [f async for f in reply.stream(ASKED)] == WORDS
    assert llm.finished


async def test_the_models_failure_reaches_the_reply_after_what_it_wrote() -> None:
    error = ProviderUnavailable("scripted", "the model went away")
    draft = Draft(ScriptedLLM(WORDS, fail_after=2, error=error), ASKED)
    got: list[str] = []
    try:
        async for fragment in draft.take().stream(ASKED):
            got.append(fragment)
    except ProviderUnavailable as e:
        assert e is error
    else:
        raise AssertionError("the failure was lost")
    assert got == WORDS[:2]


async def test_the_reply_names_the_model_that_wrote_the_draft() -> None:
    llm = ScriptedLLM(WORDS)
    _, info = answering(Draft(llm, ASKED).take())
    assert info.model == "scripted"
