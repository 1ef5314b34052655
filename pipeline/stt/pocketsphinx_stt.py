"""Offline STT with CMU PocketSphinx 5 and the en-us model its wheel ships.

Free dictation is weak on unusual voices (robotic TTS, far-field mics); when the app knows what
it expects (menu commands, quiz answers, a companion's name) a JSGF grammar makes it near exact.
:func:`phrase_grammar` accepts whole phrases, :func:`vocabulary_grammar` any sequence of words.
Decoding holds a per-instance lock in a worker thread: a decoder is not safe to share.
"""

from __future__ import annotations

import asyncio
import re
import threading
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

    def __init__(self, jsgf: str | None = None) -> None:
        self._jsgf = jsgf
        self._decoder: Any = None
        self._lock = threading.Lock()

    async def transcribe(self, audio: bytes, mime_type: str, language: str = "en") -> Transcript:
        if not language.lower().startswith("en"):
            raise ProviderUnavailable(
                PROVIDER, f"only the en-us model is installed, not {language!r}"
            )
        pcm = await asyncio.to_thread(decode_to_pcm16_mono, audio, mime_type, SAMPLE_RATE, PROVIDER)
        return await asyncio.to_thread(self._decode, pcm)

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
            decoder.process_raw(pcm + _TAIL_SILENCE, full_utt=True)
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


def _grammar_words(jsgf: str) -> list[str]:
    """Terminal words of a simple JSGF body (enough to check them against the dictionary)."""
    body = "\n".join(
        line for line in jsgf.splitlines() if not line.lstrip().startswith(("#", "grammar"))
    )
    body = re.sub(r"<[^>]*>|public|/[^/]*/|\{[^}]*\}", " ", body)
    return sorted({w for w in re.findall(r"[A-Za-z'][\w'.-]*", body)})
