"""Mouth tracks the hologram plays: sorted, inside the chunk, tiling it, shaped like the words."""

from __future__ import annotations

from pipeline.events import Viseme, VisemeFrame
from pipeline.visemes import (
    frames_from_characters,
    frames_from_phonemes,
    frames_from_segments,
    text_span_frames,
    viseme_for_phoneme,
)


def assert_tiles(frames: tuple[VisemeFrame, ...], duration_ms: int) -> None:
    assert frames[0].start_ms == 0
    assert frames[-1].end_ms == duration_ms
    for a, b in zip(frames, frames[1:], strict=False):
        assert a.end_ms == b.start_ms, (a, b)
        assert a.viseme != b.viseme, "adjacent equal shapes must be merged"
    assert all(f.start_ms < f.end_ms for f in frames)


def characters(text: str, step_s: float = 0.1) -> tuple[list[str], list[float], list[float]]:
    chars = list(text)
    starts = [i * step_s for i in range(len(chars))]
    return chars, starts, [s + step_s for s in starts]


def test_espeak_mnemonics_map_to_oculus_shapes() -> None:
    expected = {"m": "PP", "f": "FF", "T": "TH", "d": "DD", "k": "kk", "tS": "CH", "s": "SS",
                "n": "nn", "r": "RR", "A:": "aa", "E": "E", "i:": "ih", "oU": "oh", "u:": "ou",
                "_:": "sil"}  # fmt: skip
    assert {p: str(viseme_for_phoneme(p)) for p in expected} == expected
    assert viseme_for_phoneme("h") is None  # /h/ keeps the previous shape


def test_phoneme_events_become_a_merged_tiling() -> None:
    # "mama" as espeak-ng times it, then a pause
    events = [(5, "m"), (95, "A:"), (220, "m"), (290, "a#"), (340, "_:")]
    frames = frames_from_phonemes(events, duration_ms=500)
    assert_tiles(frames, 500)
    assert [f.viseme for f in frames] == [
        Viseme.SIL,
        Viseme.PP,
        Viseme.AA,
        Viseme.PP,
        Viseme.AA,
        Viseme.SIL,
    ]
    assert frames[1] == VisemeFrame(Viseme.PP, 5, 95)


def test_frames_are_clipped_to_the_chunk_and_overlaps_resolved() -> None:
    frames = frames_from_segments(
        [(Viseme.AA, -50, 100), (Viseme.SS, 80, 200), (Viseme.PP, 900, 1500)], duration_ms=1000
    )
    assert_tiles(frames, 1000)
    assert frames == (
        VisemeFrame(Viseme.AA, 0, 100),
        VisemeFrame(Viseme.SS, 100, 200),
        VisemeFrame(Viseme.SIL, 200, 900),
        VisemeFrame(Viseme.PP, 900, 1000),
    )
    assert frames_from_segments([(Viseme.AA, 0, 10)], duration_ms=0) == ()


def test_character_alignment_handles_digraphs_and_silent_letters() -> None:
    frames = frames_from_characters(*characters("see the shape"), duration_ms=1400)
    assert_tiles(frames, 1400)
    shapes = [f.viseme for f in frames]
    assert shapes == [
        Viseme.SS, Viseme.IH, Viseme.SIL,  # s, ee, space
        Viseme.TH, Viseme.E, Viseme.SIL,  # th, e (spoken: "the" is too short to be silent)
        Viseme.CH, Viseme.AA, Viseme.PP,  # sh, a, p + silent final e held as PP
        Viseme.SIL,
    ]  # fmt: skip
    pp = frames[-2]
    assert (pp.start_ms, pp.end_ms) == (1100, 1300)  # "p" and the silent "e" share one shape


def test_mama_and_see_through_characters() -> None:
    mama = frames_from_characters(*characters("mama"), duration_ms=400)
    assert [f.viseme for f in mama] == [Viseme.PP, Viseme.AA, Viseme.PP, Viseme.AA]
    assert Viseme.SS in {f.viseme for f in frames_from_characters(*characters("see"), 300)}


def test_text_spread_fallback_covers_the_speech_span() -> None:
    frames = text_span_frames("mama", start_ms=100, end_ms=500, duration_ms=600)
    assert_tiles(frames, 600)
    assert frames[0] == VisemeFrame(Viseme.SIL, 0, 100)
    assert frames[-1] == VisemeFrame(Viseme.SIL, 500, 600)


def test_millisecond_holes_in_a_character_alignment_hold_the_mouth_and_pauses_close_it() -> None:
    # Character times rounded to 1 ms each (as ElevenLabs sends them) leave 1 ms holes between
    # letters: the mouth must not flicker shut there, only at the real pause after the comma.
    text = "Mama, see"
    step = 0.0643
    starts = [round(i * step, 3) for i in range(len(text))]
    ends = [round(s + step, 3) for s in starts]
    assert any(round(e * 1000) < round(s * 1000) for e, s in zip(ends, starts[1:], strict=False))
    frames = frames_from_characters(list(text), starts, ends, duration_ms=700)
    shapes = [f.viseme for f in frames]
    assert shapes[:5] == [Viseme.PP, Viseme.AA, Viseme.PP, Viseme.AA, Viseme.SIL]
    pause = frames[4]
    assert pause.end_ms - pause.start_ms >= 100  # ", " is a pause, kept as silence
    assert all(f.end_ms == g.start_ms for f, g in zip(frames, frames[1:], strict=False))
