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
