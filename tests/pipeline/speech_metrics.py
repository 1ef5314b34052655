"""Measures shared by the speech tests."""

from __future__ import annotations

import math
import re
from array import array


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over words divided by the reference length."""
    ref = re.findall(r"[a-z']+", reference.lower())
    hyp = re.findall(r"[a-z']+", hypothesis.lower())
    row = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        prev, row[0] = row[0], i
        for j in range(1, len(hyp) + 1):
            prev, row[j] = (
                row[j],
                min(row[j] + 1, row[j - 1] + 1, prev + (ref[i - 1] != hyp[j - 1])),
            )
    return row[len(hyp)] / max(1, len(ref))


def rms(pcm16: bytes, sample_rate: int, start_ms: int, end_ms: int) -> float:
    samples = array("h", pcm16)[start_ms * sample_rate // 1000 : end_ms * sample_rate // 1000]
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


# Whisper writes what a person would type ("I've", "10 minutes"); the references spell it out.
# Scoring compares both in one spoken form, as Whisper's own evaluation normaliser does.
_CONTRACTIONS = {
    "i'm": "i am", "i've": "i have", "i'll": "i will", "i'd": "i would", "you're": "you are",
    "you've": "you have", "you'll": "you will", "we're": "we are", "we've": "we have",
    "we'll": "we will", "they're": "they are", "it's": "it is", "that's": "that is",
    "what's": "what is", "let's": "let us", "don't": "do not", "doesn't": "does not",
    "didn't": "did not", "can't": "cannot", "won't": "will not", "isn't": "is not",
    "aren't": "are not", "wasn't": "was not", "there's": "there is", "he's": "he is",
    "she's": "she is", "couldn't": "could not", "wouldn't": "would not",
}  # fmt: skip
_NUMBERS = dict(
    enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
)


def spoken_form(text: str) -> str:
    """Lower case, contractions spelt out, 0-20 as words, punctuation gone."""
    words = []
    for word in re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'")):
        if word.isdigit() and int(word) in _NUMBERS:
            word = _NUMBERS[int(word)]
        words.append(_CONTRACTIONS.get(word, word))
    return " ".join(words)


def normalized_word_error_rate(reference: str, hypothesis: str) -> float:
    return word_error_rate(spoken_form(reference), spoken_form(hypothesis))
