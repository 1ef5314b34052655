"""Offline STT with CMU PocketSphinx 5 and the en-us model its wheel ships.

The acoustic model was trained on recordings, which always have a noise floor; digitally clean
audio (synthesised speech, a mic behind noise suppression, the silence padded on here) has
stretches of near-zero samples unlike anything it was trained on, and free dictation of such
audio was mostly wrong (WER 0.62-0.75 on espeak-ng speech). A seeded white noise floor of
about -50 dBFS (``noise_floor``: its std in 16-bit units; 60-150 measured alike) brings that to
~0.2; decoder settings (beams, language weight, CMN) moved it by a few points at most. The
floor is quieter than a typical microphone's own noise; its effect on real recordings is not
measured here (no recordings to measure on).

When the app knows what it expects (menu commands, quiz answers, a companion's name) a JSGF
grammar makes it near exact.
:func:`phrase_grammar` accepts whole phrases, :func:`vocabulary_grammar` any sequence of words.
Decoding holds a per-instance lock: a decoder is not safe to share. ``transcribe`` runs it in a
thread of this process, where ``process_raw`` holds the GIL for the whole utterance (measured:
another thread waited the whole 24 s a 10 s message took on a busy machine; a 60 s message
decodes in ~15 s on a quiet one): the server runs it in worker processes instead
(:mod:`pipeline.stt.process_pool`, which calls :meth:`PocketsphinxSTT.transcribe_now`).
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
from array import array
from collections.abc import Iterable
from typing import Any

from pocketsphinx import Decoder

from pipeline.audio import decode_to_pcm16_mono
from pipeline.errors import ProviderUnavailable
from pipeline.stt.base import Transcript, WordTiming

PROVIDER = "pocketsphinx"
SAMPLE_RATE = 16000
_FRAME_MS = 10  # pocketsphinx's default frame rate is 100 frames/s
# Clips cut right at the last phoneme (TTS output, push-to-talk) lose their final word: the
# search needs trailing silence to leave it; 600 ms measured best. Dither (seeded, so results
# repeat) keeps digital silence from wrecking the cepstral features.
_TAIL_SILENCE = bytes(2 * SAMPLE_RATE * 600 // 1000)
NOISE_FLOOR = 100.0  # std of the added noise in 16-bit units (~ -50 dBFS)
_FILLERS = re.compile(r"^(<.*>|\[.*\])$")  # <s>, </s>, <sil>, [NOISE]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def phrase_grammar(phrases: Iterable[str]) -> str:
    """JSGF accepting exactly one of ``phrases``."""
    options = sorted({" ".join(_words(p)) for p in phrases} - {""})
    if not options:
        raise ValueError("phrase_grammar needs at least one phrase with words")
    return "#JSGF V1.0;\ngrammar phrases;\npublic <utterance> = " + " | ".join(options) + " ;\n"


def vocabulary_grammar(words: Iterable[str]) -> str:
    """JSGF accepting any sequence of ``words`` (a bag-of-words hint, order not assumed)."""
    vocab = sorted({w for text in words for w in _words(text)})
    if not vocab:
        raise ValueError("vocabulary_grammar needs at least one word")
    return (
        "#JSGF V1.0;\ngrammar vocabulary;\npublic <utterance> = ( " + " | ".join(vocab) + " )* ;\n"
    )


class PocketsphinxSTT:
    """``jsgf`` (optional) constrains recognition; words missing from the dictionary are refused."""

    name = PROVIDER

    def __init__(self, jsgf: str | None = None, noise_floor: float = NOISE_FLOOR) -> None:
        self._jsgf = jsgf
        self._noise_floor = noise_floor
        self._decoder: Any = None
        self._lock = threading.Lock()

    async def transcribe(self, audio: bytes, mime_type: str, language: str = "en") -> Transcript:
        return await asyncio.to_thread(self.transcribe_now, audio, mime_type, language)

    def transcribe_now(self, audio: bytes, mime_type: str, language: str = "en") -> Transcript:
        """Decode in the calling thread (a worker process's, in the server)."""
        if not language.lower().startswith("en"):
            raise ProviderUnavailable(
                PROVIDER, f"only the en-us model is installed, not {language!r}"
            )
        return self._decode(decode_to_pcm16_mono(audio, mime_type, SAMPLE_RATE, PROVIDER))

    def warm_up(self) -> None:
        """Load the model now (~0.3 s) rather than on the first message."""
        with self._lock:
            if self._decoder is None:
                self._decoder = self._load()

    def _load(self) -> Any:
        decoder = Decoder(loglevel="FATAL", samprate=SAMPLE_RATE, dither=True, seed=1)
        if self._jsgf is not None:
            unknown = [w for w in _grammar_words(self._jsgf) if decoder.lookup_word(w) is None]
            if unknown:
                raise ValueError(f"words not in the pocketsphinx dictionary: {', '.join(unknown)}")
            decoder.add_jsgf_string("hint", self._jsgf)
            decoder.activate_search("hint")
        return decoder

    def _decode(self, pcm: bytes) -> Transcript:
        with self._lock:
            if self._decoder is None:
                self._decoder = self._load()
            decoder = self._decoder
            decoder.start_utt()
            decoder.process_raw(
                with_noise_floor(pcm + _TAIL_SILENCE, self._noise_floor), full_utt=True
            )
            decoder.end_utt()
            segments = list(decoder.seg()) if decoder.hyp() is not None else []
        words = tuple(
            WordTiming(
                re.sub(r"\(\d+\)$", "", seg.word),  # alternate pronunciations: "the(2)"
                seg.start_frame * _FRAME_MS,
                (seg.end_frame + 1) * _FRAME_MS,
            )
            for seg in segments
            if not _FILLERS.match(seg.word)
        )
        return Transcript(text=" ".join(w.word for w in words), words=words)


def with_noise_floor(pcm: bytes, std: float, seed: int = 1) -> bytes:
    """16-bit mono PCM plus seeded white Gaussian noise (the same audio decodes the same)."""
    if std <= 0:
        return pcm
    gauss = random.Random(seed).gauss
    samples = array("h", pcm)
    noisy = array("h", (max(-32768, min(32767, round(x + gauss(0.0, std)))) for x in samples))
    return noisy.tobytes()


def _grammar_words(jsgf: str) -> list[str]:
    """Terminal words of a simple JSGF body (enough to check them against the dictionary)."""
    body = "\n".join(
        line for line in jsgf.splitlines() if not line.lstrip().startswith(("#", "grammar"))
    )
    body = re.sub(r"<[^>]*>|public|/[^/]*/|\{[^}]*\}", " ", body)
    return sorted({w for w in re.findall(r"[A-Za-z'][\w'.-]*", body)})
