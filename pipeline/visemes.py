"""Mouth shapes from speech timings: espeak-ng phonemes or per-character alignments.

Both paths reduce to timed segments, then to one tiling of ``[0, duration_ms]``: frames are
sorted, never overlap, leave no gaps (gaps become ``sil``) and adjacent equal shapes are merged,
so a client can look up the shape for any playback position without searching.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence

from pipeline.events import Viseme, VisemeFrame

V = Viseme

# ``None`` means "hold the previous shape": /h/, glottal stops and silent letters have no mouth
# shape of their own.
Segment = tuple[Viseme | None, int, int]

# espeak-ng English mnemonics (``espeak-ng -x``); other languages share most of them.
PHONEME_VISEMES: dict[str, Viseme | None] = {
    "p": V.PP, "b": V.PP, "m": V.PP,
    "f": V.FF, "v": V.FF,
    "T": V.TH, "D": V.TH,
    "t": V.DD, "d": V.DD, "t#": V.DD, "d#": V.DD, "*": V.DD,
    "k": V.KK, "g": V.KK, "x": V.KK, "N": V.NN,
    "tS": V.CH, "dZ": V.CH, "S": V.CH, "Z": V.CH, "j": V.IH,
    "s": V.SS, "z": V.SS,
    "n": V.NN, "l": V.NN, "L": V.NN, "n-": V.NN, "l/": V.NN,
    "r": V.RR, "r-": V.RR, "R": V.RR, "3": V.RR, "3:": V.RR, "@r": V.RR,
    "w": V.OU, "W": V.OU,
    "h": None, "?": None,
    "a": V.AA, "a#": V.AA, "A": V.AA, "A:": V.AA, "A@": V.AA, "aa": V.AA, "V": V.AA,
    "@": V.AA, "@2": V.AA, "@5": V.AA, "aI": V.AA, "aU": V.AA, "aI@": V.AA, "aU@": V.AA,
    "E": V.E, "e": V.E, "e@": V.E, "eI": V.E, "E2": V.E, "E:": V.E,
    "I": V.IH, "i": V.IH, "i:": V.IH, "I2": V.IH, "I#": V.IH, "i@": V.IH, "i@3": V.IH,
    "0": V.OH, "O": V.OH, "O:": V.OH, "O@": V.OH, "o": V.OH, "oU": V.OH, "OI": V.OH, "o@": V.OH,
    "u": V.OU, "u:": V.OU, "U": V.OU, "U@": V.OU, "u@": V.OU,
}  # fmt: skip

_LETTERS: dict[str, Viseme | None] = {
    "a": V.AA, "b": V.PP, "c": V.KK, "d": V.DD, "e": V.E, "f": V.FF, "g": V.KK, "h": None,
    "i": V.IH, "j": V.CH, "k": V.KK, "l": V.NN, "m": V.PP, "n": V.NN, "o": V.OH, "p": V.PP,
    "q": V.KK, "r": V.RR, "s": V.SS, "t": V.DD, "u": V.OU, "v": V.FF, "w": V.OU, "x": V.KK,
    "y": V.IH, "z": V.SS,
}  # fmt: skip

# Spellings whose sound is not the sum of their letters.
_DIGRAPHS: dict[str, Viseme | None] = {
    "th": V.TH, "sh": V.CH, "ch": V.CH, "ph": V.FF, "ck": V.KK, "ng": V.NN, "wh": V.OU,
    "qu": V.KK, "ee": V.IH, "ea": V.IH, "oo": V.OU, "ou": V.OU, "ai": V.E, "ay": V.E,
    "oa": V.OH, "ow": V.OH, "gh": None,
}  # fmt: skip


def viseme_for_phoneme(phoneme: str) -> Viseme | None:
    """Shape for one espeak-ng mnemonic; pauses (``_``, ``_:``) are ``sil``."""
    if not phoneme or phoneme.startswith("_"):
        return V.SIL
    if phoneme in PHONEME_VISEMES:
        return PHONEME_VISEMES[phoneme]
    bare = phoneme.rstrip("#:;0123456789/-")
    if bare in PHONEME_VISEMES:
        return PHONEME_VISEMES[bare]
    # Unknown diphthongs and language-specific phonemes: judge by the first sound.
    for size in (2, 1):
        head = phoneme[:size]
        if head in PHONEME_VISEMES:
            return PHONEME_VISEMES[head]
    return V.AA


# A gap between two sounds shorter than this is a rounding artefact of the alignment (ElevenLabs'
# character times, rounded to 1 ms, leave 1 ms holes), not a pause: the mouth holds its shape
# rather than flicker shut for a frame no renderer shows (a 60 fps frame is 16.7 ms).
MIN_SILENCE_MS = 20


def frames_from_segments(segments: Iterable[Segment], duration_ms: int) -> tuple[VisemeFrame, ...]:
    """Tile ``[0, duration_ms]`` with the segments, clipped, gap-filled with ``sil`` (or, for a
    gap under ``MIN_SILENCE_MS`` after a sound, the sound held) and merged."""
    if duration_ms <= 0:
        return ()
    out: list[VisemeFrame] = []
    cursor = 0

    def push(viseme: Viseme, start: int, end: int) -> None:
        if out and out[-1].viseme == viseme:
            out[-1] = VisemeFrame(viseme, out[-1].start_ms, end)
        else:
            out.append(VisemeFrame(viseme, start, end))

    for viseme, start, end in sorted(segments, key=lambda s: s[1]):
        start = min(max(start, cursor), duration_ms)
        end = min(max(end, start), duration_ms)
        if end <= start:
            continue
        if start > cursor:
            short_hole = out and out[-1].viseme != V.SIL and start - cursor < MIN_SILENCE_MS
            push(out[-1].viseme if short_hole else V.SIL, cursor, start)
        held = out[-1].viseme if out else V.SIL
        push(viseme if viseme is not None else held, start, end)
        cursor = end
    if cursor < duration_ms:
        push(V.SIL, cursor, duration_ms)
    return tuple(out)


def frames_from_phonemes(
    events: Sequence[tuple[int, str]], duration_ms: int
) -> tuple[VisemeFrame, ...]:
    """Frames from ``(start_ms, mnemonic)`` events; each phoneme lasts until the next one."""
    ordered = sorted(events)
    segments: list[Segment] = []
    for i, (start, phoneme) in enumerate(ordered):
        end = ordered[i + 1][0] if i + 1 < len(ordered) else duration_ms
        segments.append((viseme_for_phoneme(phoneme), start, end))
    return frames_from_segments(segments, duration_ms)


def _letter_viseme(char: str) -> Viseme | None:
    base = unicodedata.normalize("NFD", char)[0].lower()
    if base in _LETTERS:
        return _LETTERS[base]
    if char.isdigit() or char.isalpha():
        return V.AA  # spoken, shape unknown: an open mouth reads as talking
    if char == "'":
        return None
    return V.SIL


def frames_from_characters(
    characters: Sequence[str],
    starts_s: Sequence[float],
    ends_s: Sequence[float],
    duration_ms: int,
) -> tuple[VisemeFrame, ...]:
    """Frames from a character alignment (ElevenLabs ``with-timestamps``), digraph-aware."""
    n = min(len(characters), len(starts_s), len(ends_s))
    segments: list[Segment] = []
    i = 0
    while i < n:
        pair = (characters[i] + characters[i + 1]).lower() if i + 1 < n else ""
        if pair in _DIGRAPHS:
            viseme, last = _DIGRAPHS[pair], i + 1
        else:
            viseme, last = _letter_viseme(characters[i]), i
            following = characters[i + 1] if i + 1 < n else " "
            before = "".join(characters[max(0, i - 3) : i])
            if characters[i].lower() == "c" and following.lower() in ("e", "i", "y"):
                viseme = V.SS  # soft c: "city", "face"
            if characters[i].lower() == "e" and not following.isalpha() and before.isalpha():
                viseme = None if len(before) == 3 else viseme  # silent final e: "make", "love"
        start = round(starts_s[i] * 1000)
        end = round(ends_s[last] * 1000)
        segments.append((viseme, start, end))
        i = last + 1
    return frames_from_segments(segments, duration_ms)


def text_span_frames(
    text: str, start_ms: int, end_ms: int, duration_ms: int
) -> tuple[VisemeFrame, ...]:
    """Last resort without timings: spread the letters evenly over the speech span."""
    chars = list(text.strip())
    if not chars or end_ms <= start_ms:
        return frames_from_segments([], duration_ms)
    step = (end_ms - start_ms) / len(chars) / 1000
    starts = [start_ms / 1000 + i * step for i in range(len(chars))]
    return frames_from_characters(chars, starts, [s + step for s in starts], duration_ms)


def timed(align: Callable[[], tuple[VisemeFrame, ...]]) -> tuple[tuple[VisemeFrame, ...], float]:
    """A mouth track and the milliseconds aligning it took: ``Synthesis.align_ms``, measured
    where it runs (a speech worker process too), so a reply's trace can show it per sentence."""
    started = time.perf_counter()
    frames = align()
    return frames, round((time.perf_counter() - started) * 1000, 3)
