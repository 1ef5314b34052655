"""Emotion tags never reach the screen or the voice, and every sentence gets a feeling."""

from __future__ import annotations

import pytest

from pipeline.emotions import TAG_INSTRUCTION, EmotionTag, TagStripper, classify
from pipeline.events import Emotion


def strip(fragments: list[str]) -> tuple[str, list[EmotionTag]]:
    stripper = TagStripper()
    text, tags = "", []
    for fragment in [*fragments, None]:
        out, found = stripper.finish() if fragment is None else stripper.feed(fragment)
        text += out
        tags += found
    return text, tags


REPLY = "[joy] That's great! [sadness:0.4] But I'll miss you. [laughs] Anyway."


@pytest.mark.parametrize("size", [1, 2, 3, 5, 100])
def test_tags_are_removed_and_located_even_when_split_across_fragments(size: int) -> None:
    text, tags = strip([REPLY[i : i + size] for i in range(0, len(REPLY), size)])

    assert text == "That's great! But I'll miss you. Anyway."
    assert tags == [
        EmotionTag(Emotion.joy, 0.7, 0),
        EmotionTag(Emotion.sadness, 0.4, text.index("But")),
    ]


def test_synonyms_are_understood() -> None:
    _, tags = strip(["[happy]Yay [sad] oh"])
    assert [t.emotion for t in tags] == [Emotion.joy, Emotion.sadness]


@pytest.mark.parametrize(
    "text",
    ["See note [1] here.", "Array [a, b] ok.", "[Note] capital", "Open [ bracket", "x [joy:2] y"],
)
def test_brackets_that_are_not_tags_are_kept(text: str) -> None:
    assert strip([text]) == (text, [])


def test_an_unfinished_tag_at_the_end_is_released_as_text() -> None:
    assert strip(["Hello [jo"]) == ("Hello [jo", [])


def test_whitespace_is_trimmed_at_both_ends_and_not_doubled_around_tags() -> None:
    text, _ = strip(["  [joy]  Hi ", "[sadness] ", " there  \n"])
    assert text == "Hi there"


def test_the_prompt_instruction_names_every_emotion() -> None:
    for emotion in Emotion:
        assert f"[{emotion.value}]" in TAG_INSTRUCTION


@pytest.mark.parametrize(
    ("sentence", "emotion"),
    [
        ("That is wonderful, congratulations!", Emotion.joy),
        ("I'm so sorry, that's sad.", Emotion.sadness),
        ("That is so unfair, I'm furious.", Emotion.anger),
        ("I'm a bit worried about it.", Emotion.fear),
        ("Hmm, I wonder about that.", Emotion.thinking),
        ("I love you, dear.", Emotion.affection),
        ("The train leaves at nine.", Emotion.neutral),
    ],
)
def test_lexicon_classifies_untagged_sentences(sentence: str, emotion: Emotion) -> None:
    assert classify(sentence)[0] is emotion


def test_intensity_grows_with_intensifiers_and_exclamations_and_stays_in_range() -> None:
    _, plain = classify("I am happy.")
    _, strong = classify("I am so very happy, great!!!")
    assert classify("The train leaves at nine.") == (Emotion.neutral, 0.0)
    assert 0 < plain < strong <= 1
    assert classify("happy " * 50 + "!!!")[1] == 1.0
