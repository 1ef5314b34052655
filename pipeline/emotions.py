"""Emotion tags in model output, and a small lexicon for sentences that carry none.

Tag format (what the persona prompt asks the model to write): an emotion name in square
brackets, optionally with an intensity, placed before the words it colours::

    [joy] That's wonderful news!  [sadness:0.4] I'll miss you, though.

Names are the ``Emotion`` values; a few common synonyms (``[happy]``, ``[sad]``...) are accepted
because models drift. Any other short lowercase bracketed word (``[laughs]``) is a stage direction:
it is removed so it is never spoken, and reports no emotion. Text such as ``[1]`` or ``[Note: x]``
is not a tag and is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.events import Emotion

DEFAULT_TAG_INTENSITY = 0.7
_MAX_TAG_LEN = 24  # longest "[name:0.75]" we wait for before giving up and releasing text

TAG_INSTRUCTION = (
    "Before each sentence whose feeling differs from the previous one, write one emotion tag in "
    "square brackets, chosen from: " + ", ".join(f"[{e.value}]" for e in Emotion) + ". "
    "You may add an intensity from 0 to 1, like [joy:0.8]. Tags are never read aloud; "
    "write nothing else in square brackets."
)

_SYNONYMS: dict[str, Emotion] = {
    "happy": Emotion.joy,
    "excited": Emotion.joy,
    "sad": Emotion.sadness,
    "angry": Emotion.anger,
    "scared": Emotion.fear,
    "afraid": Emotion.fear,
    "surprised": Emotion.surprise,
    "disgusted": Emotion.disgust,
    "love": Emotion.affection,
    "loving": Emotion.affection,
    "thoughtful": Emotion.thinking,
    "calm": Emotion.neutral,
}
_TAG_RE = re.compile(r"\[([a-z][a-z_]{0,15})(?::(0(?:\.\d+)?|1(?:\.0+)?))?\]")
_TAG_CHARS = re.compile(r"\[[a-z_]*(?::[0-9.]*)?")  # a prefix that may still become a tag


@dataclass(frozen=True, slots=True)
class EmotionTag:
    """An emotion found in the stream; ``offset`` is its position in the stripped text."""

    emotion: Emotion
    intensity: float
    offset: int


def parse_tag(tag: str) -> EmotionTag | None | bool:
    """``EmotionTag`` for an emotion tag, ``True`` for a stage direction, ``None`` if no tag."""
    m = _TAG_RE.fullmatch(tag)
    if m is None:
        return None
    name, level = m.group(1), m.group(2)
    emotion = _SYNONYMS.get(name)
    if emotion is None:
        try:
            emotion = Emotion(name)
        except ValueError:
            return True
    intensity = float(level) if level is not None else DEFAULT_TAG_INTENSITY
    return EmotionTag(emotion, intensity, 0)


class TagStripper:
    """Removes tags from streamed text, even when a tag is split across fragments.

    Leading whitespace of the reply is dropped and trailing whitespace is held back until more
    text follows, so the concatenated output equals the final, trimmed reply; removing a tag
    between two spaces leaves one.
    """

    def __init__(self) -> None:
        self._held = ""  # a "[" and what follows, until we know whether it is a tag
        self._pending_ws = ""
        self._emitted = 0
        self._after_tag = False

    def feed(self, fragment: str) -> tuple[str, list[EmotionTag]]:
        out: list[str] = []
        tags: list[EmotionTag] = []
        for ch in fragment:
            if self._held:
                self._held += ch
                if ch == "]":
                    self._resolve_held(out, tags)
                elif not _TAG_CHARS.fullmatch(self._held) or len(self._held) > _MAX_TAG_LEN:
                    text, self._held = self._held, ""
                    self._text(text, out)
            elif ch == "[":
                self._held = ch
            else:
                self._text(ch, out)
        return "".join(out), tags

    def finish(self) -> tuple[str, list[EmotionTag]]:
        """Release an unfinished tag as text; trailing whitespace is dropped for good."""
        out: list[str] = []
        if self._held:
            text, self._held = self._held, ""
            self._text(text, out)
        return "".join(out), []

    def _resolve_held(self, out: list[str], tags: list[EmotionTag]) -> None:
        held, self._held = self._held, ""
        parsed = parse_tag(held)
        if parsed is None:
            self._text(held, out)
            return
        self._after_tag = True
        if isinstance(parsed, EmotionTag):
            offset = self._emitted + len(self._pending_ws)
            tags.append(EmotionTag(parsed.emotion, parsed.intensity, offset))

    def _text(self, text: str, out: list[str]) -> None:
        for ch in text:
            if ch.isspace():
                if self._emitted == 0 or (self._after_tag and self._pending_ws):
                    continue
                self._pending_ws += ch
                continue
            self._after_tag = False
            piece = self._pending_ws + ch
            self._pending_ws = ""
            self._emitted += len(piece)
            out.append(piece)


_LEXICON: dict[Emotion, frozenset[str]] = {
    Emotion.joy: frozenset(
        "happy glad great wonderful awesome amazing yay fun lovely delighted excited "
        "fantastic congratulations congrats haha laugh enjoy brilliant perfect".split()
    ),
    Emotion.sadness: frozenset(
        "sad sorry unfortunately miss lonely cry crying tears lost hurt sadly grief heartbroken "
        "down depressed alone".split()
    ),
    Emotion.anger: frozenset("angry furious annoyed unfair hate mad outrageous rage".split()),
    Emotion.fear: frozenset("afraid scared worried nervous anxious frightening scary fear".split()),
    Emotion.surprise: frozenset("wow whoa really unexpected surprised surprising oh".split()),
    Emotion.disgust: frozenset("gross disgusting yuck ew awful nasty".split()),
    Emotion.affection: frozenset("love dear sweet hug care cherish adore darling hugs".split()),
    Emotion.thinking: frozenset("hmm think wonder perhaps maybe consider guess curious".split()),
}
_INTENSIFIERS = frozenset("very so really extremely truly incredibly totally".split())
_WORD_RE = re.compile(r"[a-z']+")


def classify(sentence: str) -> tuple[Emotion, float]:
    """Best-guess emotion of a sentence from its words; ``(NEUTRAL, 0.0)`` when nothing matches."""
    words = _WORD_RE.findall(sentence.lower())
    scores: dict[Emotion, int] = {}
    for word in words:
        for emotion, lexicon in _LEXICON.items():
            if word in lexicon:
                scores[emotion] = scores.get(emotion, 0) + 1
    if not scores:
        return Emotion.neutral, 0.0
    emotion = max(scores, key=lambda e: (scores[e], -list(_LEXICON).index(e)))
    intensity = 0.4 + 0.15 * (scores[emotion] - 1)
    intensity += 0.1 * sum(1 for w in words if w in _INTENSIFIERS)
    intensity += 0.1 * min(sentence.count("!"), 2)
    return emotion, round(min(1.0, intensity), 2)
