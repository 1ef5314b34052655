"""What SmolLM2 leaks into a reply is stripped on the stream, however the deltas split it; a
long reply ends on a sentence rather than where the token cap cuts it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pipeline.llm.leaks import LeakFilter, without_leaks
from pipeline.llm.local_model import whole_sentences

# (what the model streamed, what the person should see): shapes seen from small chat models.
LEAKED = [
    ("<|im_start|>assistant\nHi Ada! How was your day?", "Hi Ada! How was your day?"),
    ("Assistant: I love the night sky.", "I love the night sky."),
    ("Nova: Hello there! I'm Nova.", "Hello there! I'm Nova."),
    (
        "That sounds lovely. What did you cook?\nUser: I made soup.\nAssistant: Yum!",
        "That sounds lovely. What did you cook?",
    ),
    ("Jupiter is huge! User: tell me more", "Jupiter is huge!"),
    ("I'm here for you.<|im_end|>\n<|im_start|>user\nthanks", "I'm here for you."),
    ("Sure thing.<|endoftext|>Human: next", "Sure thing."),
    ("[joy] Oh, how wonderful!\n\nHuman: and then?", "[joy] Oh, how wonderful!"),
    ("Good night.\n<|im_start|>assistant\nSleep well!", "Good night.\nSleep well!"),
    ("What did you see?\nAda: I saw Mars!\nNova: Wow.", "What did you see?"),
]
# Text that only looks like a leak stays whole.
CLEAN = [
    "I like the user interface of that telescope app.",
    "Assistants and users alike love stargazing.",
    "As an AI: no, I can't see, but I can imagine it.",
    "We met Nova: the bright new star, remember?",
    "Ask us anything, Ada.",
    "Ada, look: Mars is rising.",
]


def run(chunks: list[str]) -> tuple[str, LeakFilter]:
    leaks = LeakFilter(["Nova"], ["Ada"])
    out = [leaks.feed(chunk) for chunk in chunks]
    out.append(leaks.finish())
    return "".join(out), leaks


def splits(text: str) -> list[list[str]]:
    """The text whole, one character at a time, and cut in two at every position."""
    return [[text], list(text)] + [[text[:i], text[i:]] for i in range(1, len(text))]


@pytest.mark.parametrize(("raw", "shown"), LEAKED)
def test_leaks_are_stripped_wherever_the_deltas_split(raw: str, shown: str) -> None:
    for chunks in splits(raw):
        assert run(chunks)[0] == shown, chunks


@pytest.mark.parametrize("text", CLEAN)
def test_text_that_only_looks_like_a_leak_is_kept(text: str) -> None:
    for chunks in splits(text):
        assert run(chunks)[0] == text, chunks


def test_the_persons_next_line_ends_the_reply() -> None:
    text, leaks = run(["Tell me more?", "\nUser:", " I went", " to the park"])
    assert text == "Tell me more?" and leaks.stopped
    assert leaks.feed(" and more") == ""


def test_a_possible_marker_is_held_back_only_until_the_next_delta() -> None:
    leaks = LeakFilter(["Nova"])
    assert leaks.feed("Hello, I love stars. Us") == "Hello, I love stars."
    assert leaks.feed("ually at night.") == " Usually at night."


async def test_the_stream_stops_reading_the_model_at_the_end_of_the_turn() -> None:
    closed: list[bool] = []

    async def model() -> AsyncIterator[str]:
        try:
            for piece in ["Hi", " Ada!", "<|im_", "end|>", "<|im_start|>user\n", "more"]:
                yield piece
        finally:
            closed.append(True)

    shown = [piece async for piece in without_leaks(model(), ["Nova"])]
    assert "".join(shown) == "Hi Ada!"
    assert closed == [True]


async def fragments_of(words: list[str]) -> AsyncIterator[str]:
    for word in words:
        yield word


async def test_a_long_reply_ends_on_a_sentence_not_mid_word_at_the_token_cap() -> None:
    # 8 tokens at most: from the 7th (75%), the next sentence end ends the reply.
    words = ["One", " two", " three", " four", " five", " six.", " Seven", " eight", " nine."]
    shown = [t async for t in whole_sentences(fragments_of(words), max_tokens=8)]
    assert "".join(shown) == "One two three four five six."

    cut = ["A", " b", " c", " d", " e", " f", " g", " h"]  # the cap cuts it, no sentence end
    shown = [t async for t in whole_sentences(fragments_of(cut), max_tokens=8)]
    assert "".join(shown) == "A b c d e f"

    short = ["Hi", " there", " friend"]  # ended by the model itself: kept whole
    assert [t async for t in whole_sentences(fragments_of(short), max_tokens=3 + 2)] == short
