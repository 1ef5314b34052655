"""Mouth shapes from IPA phoneme alignments (Piper's): one symbol, one sample count each.

Piper speaks espeak-ng's IPA one character at a time, and every character has a duration of its
own, stress and length marks included. Those marks, word spaces and diacritics are not sounds:
they hold the previous shape (``ˈ`` before a vowel keeps the consonant before it; ``ː`` keeps
the vowel). Punctuation and the sentence's start and end (``^``, ``$``) are pauses: ``sil``.
The table covers every symbol of the voice's phoneme map, so no shape is guessed.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.events import Viseme, VisemeFrame
from pipeline.visemes import Segment, frames_from_segments

V = Viseme

_GROUPS: dict[Viseme | None, str] = {
    V.SIL: '_^$!,.:;?()"↓',
    V.PP: "pbmɓʙɸβʘ",
    V.FF: "fvɱʋⱱ",
    V.TH: "θð",
    V.DD: "tdʈɖɗɾɽɺǀǃǂ",
    V.KK: "kgɡcɟʄqɢɠʛxɣχʁɰç",
    V.CH: "ʃʒɕʑʂʐɧ",
    V.SS: "sz",
    V.NN: "nŋɲɳɴlɫɬɮɭʎʟǁ",
    V.RR: "ɹrɻʀɚɜ",
    V.OU: "wʍuʊʉɥʏyø",
    V.IH: "iɪjɨᵻʝɯ",
    V.E: "eɛεɘ",
    V.AA: "aɑɐəʌæɶɤ",
    V.OH: "oɔɒɵœɞ",
    # No shape of their own: glottal and pharyngeal sounds, then marks that only modify a
    # neighbour (stress, length, rhotic hook, palatalisation, aspiration, combining
    # diacritics), word spaces, tone digits, and separators.
    None: "hɦʔħʕʜʢʡˈˌːˑ˞ʲʰˤ\u0327\u0303\u032a\u032f\u0329 '-#0123456789",
}

IPA_VISEMES: dict[str, Viseme | None] = {
    symbol: viseme for viseme, symbols in _GROUPS.items() for symbol in symbols
}


def viseme_for_ipa(symbol: str) -> Viseme | None:
    """Shape for one IPA symbol; one outside the table (another voice's) opens the mouth."""
    return IPA_VISEMES.get(symbol, V.AA)


def frames_from_alignments(
    alignments: Sequence[tuple[str, int]], sample_rate: int
) -> tuple[VisemeFrame, ...]:
    """Frames tiling the audio the ``(symbol, sample count)`` alignments sum to, in order."""
    total = sum(samples for _, samples in alignments)
    duration_ms = round(total * 1000 / sample_rate)
    segments: list[Segment] = []
    position = 0
    for symbol, samples in alignments:
        start = round(position * 1000 / sample_rate)
        position += samples
        segments.append((viseme_for_ipa(symbol), start, round(position * 1000 / sample_rate)))
    return frames_from_segments(segments, duration_ms)
