"""Speech starts per sentence, so the splitter decides how early a companion starts talking."""

from __future__ import annotations

import pytest

from pipeline.sentences import SentenceSplitter

TEXT = (
    "Hello Dr. Smith! It costs 3.5 dollars. Well... maybe not. Really?! Yes.\n"
    "1. Apples\n2. Pears\n\n"
    'She said "Stop." Then left. The end'
)
EXPECTED = [
    "Hello Dr. Smith!",
    "It costs 3.5 dollars.",
    "Well... maybe not.",
    "Really?!",
    "Yes.",
    "1. Apples",
    "2. Pears",
    'She said "Stop."',
    "Then left.",
    "The end",
]


def split(fragments: list[str], max_chars: int = 240) -> list[str]:
    splitter = SentenceSplitter(max_chars)
    out = [s.text for f in fragments for s in splitter.feed(f)]
    return out + [s.text for s in splitter.finish()]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_the_same_sentences_come_out_however_the_stream_is_cut(size: int) -> None:
    fragments = [TEXT[i : i + size] for i in range(0, len(TEXT), size)]
    assert split(fragments) == EXPECTED


def test_a_sentence_is_released_as_soon_as_the_next_word_starts() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("Hi there.") == []  # could still be "there.com" or an abbreviation
    assert splitter.feed(" ") == []
    assert [s.text for s in splitter.feed("How")] == ["Hi there."]
    assert [s.text for s in splitter.feed(" are you? ")] == ["How are you?"]  # ? needs no lookahead


def test_offsets_tile_the_stream_so_tags_can_be_placed() -> None:
    text = "One. Two three.  Four"
    splitter = SentenceSplitter()
    sentences = splitter.feed(text) + splitter.finish()
    assert [(s.start, s.end) for s in sentences] == [(0, 4), (4, 15), (15, len(text))]
    assert [text[s.start : s.end].strip() for s in sentences] == [s.text for s in sentences]


def test_no_empty_sentences_from_blank_lines_or_trailing_space() -> None:
    assert split(["\n\n  Hi!  \n\n\n", "   "]) == ["Hi!"]
    assert split(["", "   "]) == []


def test_a_long_run_without_punctuation_is_cut_at_a_comma() -> None:
    text = "word " * 20 + "and then, " + "more " * 30
    out = split([text], max_chars=120)
    assert out[0].endswith("and then,")
    assert " ".join(out).split() == text.split()
    assert all(len(s) <= 120 for s in out)


@pytest.mark.parametrize("size", [1, 4, 1000])
def test_a_replys_first_clause_is_spoken_on_its_own_once_it_has_two_words(size: int) -> None:
    text = "Hmm, let me think about that, Ada. You said: hello, there. Bye."
    splitter = SentenceSplitter(first_clause_words=2)
    fragments = [text[i : i + size] for i in range(0, len(text), size)]
    out = [s.text for f in fragments for s in splitter.feed(f)] + [
        s.text for s in splitter.finish()
    ]
    # "Hmm," alone is too short; only the first piece is cut: later sentences stay whole.
    assert out == ["Hmm, let me think about that,", "Ada.", "You said: hello, there.", "Bye."]


def test_the_first_clause_is_released_when_the_next_word_starts() -> None:
    splitter = SentenceSplitter(first_clause_words=2)
    assert splitter.feed("Hi there,") == []  # "1,000": a break needs the space after it
    assert [s.text for s in splitter.feed(" Ada")] == ["Hi there,"]
    assert [(s.start, s.end) for s in splitter.finish()] == [(10, 13)]


def words_as_tokens(text: str) -> list[str]:
    """A model's stream: each word with the space before it, as the responder and most
    tokenizers send them."""
    words = text.split(" ")
    return words[:1] + [" " + w for w in words[1:]]


def released_after(splitter: SentenceSplitter, tokens: list[str]) -> list[tuple[str, str]]:
    """(token, pieces released once it came) for each token that released any."""
    out = []
    for token in tokens:
        pieces = [s.text for s in splitter.feed(token)]
        if pieces:
            out.append((token, " | ".join(pieces)))
    return out


def test_a_replys_first_sentence_is_spoken_when_its_last_word_comes_not_a_word_later() -> None:
    splitter = SentenceSplitter(first_clause_words=1)
    tokens = words_as_tokens("Thanks for telling me. You said it. Really? Yes.")
    # Only the first piece is cut early: later sentences are spoken after it anyway.
    assert released_after(splitter, tokens) == [
        (" me.", "Thanks for telling me."),
        (" Really?", "You said it."),
        (" Yes.", "Really?"),
    ]


@pytest.mark.parametrize(
    "text", ["It costs 3.", "Ask Dr.", "Well...", "Back in the U.S.", "It is I."]
)
def test_a_first_sentence_that_the_next_token_may_continue_waits_for_it(text: str) -> None:
    """ "3.5", "Dr. Smith", "Well... maybe", "U.S. today", an initial, not a plain word."""
    splitter = SentenceSplitter(first_clause_words=1)
    assert released_after(splitter, words_as_tokens(text)) == []
