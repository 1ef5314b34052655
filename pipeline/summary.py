"""A running summary of older turns, made offline: the most informative sentences people said.

Deterministic and bounded. Each summary line is ``<speaker>: <sentence>``; a new fold keeps the
previous lines and adds the new turns' best sentences, and when the whole passes ``max_chars``
the lowest-scoring lines go first (ties: the older line goes), so the summary never grows
without bound and the same turns always give the same summary. What the companion said is not
picked: it is what a small model invents most, and people's own words carry their facts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_CHARS = 700
MAX_SENTENCE_CHARS = 200
_SENTENCES = re.compile(r"[^.!?\n]+[.!?]*")
_WORD = re.compile(r"[A-Za-zÀ-ÿ0-9']+")
_STOP = frozenset(
    "a an the and or but so if then than that this these those is are was were be been am do "
    "does did have has had i you he she it we they me my your our their him her them to of in "
    "on at for with about from by as just really very too also not no yes oh ok okay well hi "
    "hello hey thanks thank please what how why when where who which can could would should "
    "will shall may might must there here its it's i'm you're don't can't lol".split()
)
_FIRST_PERSON = re.compile(r"\b(I|I'm|I've|I'll|my|My|mine|we|our)\b")


@dataclass(frozen=True, slots=True)
class SpokenTurn:
    speaker: str
    text: str
    by_person: bool  # a person's words, not the companion's


def score(sentence: str) -> float:
    """More content words, names, numbers and first-person facts score higher; questions and
    small talk lower."""
    words: list[str] = _WORD.findall(sentence)
    content = [w for w in words if w.lower() not in _STOP and len(w) > 2]
    names = [w for w in words[1:] if w[0].isupper() and w.lower() not in _STOP]
    value = len(content) + 1.5 * len(names) + 1.5 * sum(w.isdigit() for w in words)
    if _FIRST_PERSON.search(sentence):
        value += 2
    if sentence.rstrip().endswith("?"):
        value *= 0.4
    return value


def _candidates(turns: Sequence[SpokenTurn]) -> list[str]:
    lines: list[str] = []
    for turn in turns:
        if not turn.by_person:
            continue
        for match in _SENTENCES.finditer(turn.text):
            sentence = " ".join(match.group().split())
            if len(sentence) > MAX_SENTENCE_CHARS:
                sentence = sentence[: MAX_SENTENCE_CHARS - 1].rsplit(" ", 1)[0] + "…"
            if score(sentence) >= 3:
                lines.append(f"{turn.speaker}: {sentence}")
    return lines


def _line_score(line: str) -> float:
    return score(line.split(": ", 1)[-1])


def extractive(previous: str, turns: Sequence[SpokenTurn], max_chars: int = MAX_CHARS) -> str:
    """``previous`` with the best of ``turns`` folded in, at most ``max_chars`` long."""
    lines: list[str] = []
    seen: set[str] = set()
    for line in [*previous.splitlines(), *_candidates(turns)]:
        key = line.strip().casefold()
        if key and key not in seen:
            seen.add(key)
            lines.append(line.strip())
    # Drop the weakest lines (the older of equals) until the rest fits.
    order = sorted(range(len(lines)), key=lambda i: (_line_score(lines[i]), i))
    dropped: set[int] = set()
    size = sum(len(line) + 1 for line in lines)
    for index in order:
        if size <= max_chars:
            break
        dropped.add(index)
        size -= len(lines[index]) + 1
    return "\n".join(line for i, line in enumerate(lines) if i not in dropped)


def transcript(turns: Sequence[SpokenTurn]) -> str:
    """The turns as ``speaker: text`` lines, for a language model to summarise."""
    return "\n".join(f"{t.speaker}: {' '.join(t.text.split())}" for t in turns)
