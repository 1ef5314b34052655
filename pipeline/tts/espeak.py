"""Offline TTS through libespeak-ng (ctypes), with mouth shapes timed by the engine itself.

The library keeps global state and is not thread-safe, so every call holds one process-wide
lock. ``EspeakTTS`` runs it in a thread of the server (its CPU still competes with the event
loop's); pipeline/tts/process_pool.py runs :func:`synthesis` in worker processes instead.
Phoneme events carry the sample position they were rendered at, so the visemes match the real
audio, not a guess.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import threading
from dataclasses import dataclass

from pipeline.audio import pcm16_to_wav
from pipeline.errors import ProviderBadResponse, ProviderUnavailable
from pipeline.tts.base import Synthesis, VoiceInfo, VoiceSettings
from pipeline.visemes import frames_from_phonemes, timed

PROVIDER = "espeak"
DEFAULT_WPM = 175  # espeak-ng's own default rate
_MIN_WPM, _MAX_WPM = 80, 450

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x1
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_PARAM_RATE = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, NUL-terminated name)*, then a 0 byte
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True, slots=True)
class Rendering:
    """Raw engine output: 16-bit mono PCM and ``(start_ms, phoneme mnemonic)`` events."""

    pcm: bytes
    sample_rate: int
    phonemes: tuple[tuple[int, str], ...]

    @property
    def duration_ms(self) -> int:
        return round(len(self.pcm) / 2 * 1000 / self.sample_rate)


class _Engine:
    """One loaded library; callers must hold ``_LOCK``."""

    def __init__(self, library: str) -> None:
        lib = ctypes.CDLL(library)
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        self.sample_rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INITIALIZE_PHONEME_EVENTS
        )
        if self.sample_rate <= 0:
            raise OSError("espeak_Initialize failed (espeak-ng-data missing?)")
        self._lib = lib
        self._pcm = bytearray()
        self._phonemes: list[tuple[int, str]] = []
        self._callback = _SynthCallback(self._on_synth)  # keep a reference for the C side
        lib.espeak_SetSynthCallback(self._callback)

    def _on_synth(
        self, wav: ctypes._Pointer[ctypes.c_short], n: int, events: ctypes._Pointer[_Event]
    ) -> int:
        if wav and n > 0:
            self._pcm += ctypes.string_at(wav, n * 2)
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_PHONEME:
                name = event.id.string.decode("utf-8", "replace")
                self._phonemes.append((event.audio_position, name))
            i += 1
        return 0

    def render(self, text: str, voice_name: str, wpm: int) -> Rendering:
        if self._lib.espeak_SetVoiceByName(voice_name.encode()) != 0:
            raise LookupError(voice_name)
        self._lib.espeak_SetParameter(_PARAM_RATE, wpm, 0)
        self._pcm, self._phonemes = bytearray(), []
        data = text.encode("utf-8")
        status = self._lib.espeak_Synth(
            data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        self._lib.espeak_Synchronize()
        if status != 0:
            raise RuntimeError(f"espeak_Synth returned {status}")
        return Rendering(bytes(self._pcm), self.sample_rate, tuple(self._phonemes))

    def voices(self) -> list[VoiceInfo]:
        found: dict[str, VoiceInfo] = {}
        table = self._lib.espeak_ListVoices(None)
        i = 0
        while table[i]:
            voice = table[i].contents
            languages = ctypes.string_at(voice.languages + 1) if voice.languages else b""
            language = languages.decode() or (voice.identifier or b"").decode()
            name = (voice.name or b"").decode().replace("_", " ")
            found.setdefault(language, VoiceInfo(PROVIDER, language, name, language))
            i += 1
        return sorted(found.values(), key=lambda v: v.voice_id)


_LOCK = threading.Lock()
_ENGINES: dict[str, _Engine] = {}


def _engine(library: str | None) -> _Engine:
    """Load once per library path; the caller holds ``_LOCK``."""
    path = library or ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
    if path not in _ENGINES:
        try:
            _ENGINES[path] = _Engine(path)
        except OSError as e:
            raise ProviderUnavailable(
                PROVIDER,
                f"cannot load libespeak-ng ({e}); install the Debian package `espeak-ng` "
                "(apt-get install espeak-ng)",
            ) from e
    return _ENGINES[path]


def words_per_minute(speed: float) -> int:
    return max(_MIN_WPM, min(_MAX_WPM, round(DEFAULT_WPM * speed)))


def render(text: str, voice: VoiceSettings, library: str | None = None) -> Rendering:
    """Synthesize synchronously (call from a worker thread); voice falls back to the language."""
    wpm = words_per_minute(voice.speed)
    with _LOCK:
        engine = _engine(library)
        for name in dict.fromkeys((voice.voice_id, voice.language)):
            try:
                return engine.render(text, name, wpm)
            except LookupError:
                continue
            except RuntimeError as e:
                raise ProviderBadResponse(PROVIDER, str(e)) from e
    raise ProviderBadResponse(
        PROVIDER, f"no espeak-ng voice {voice.voice_id!r} or language {voice.language!r}"
    )


def synthesis(text: str, voice: VoiceSettings, library: str | None = None) -> Synthesis:
    """Audio (WAV) and its mouth track, synchronously: in a worker thread or process."""
    rendering = render(text, voice, library)
    duration = rendering.duration_ms
    visemes, align_ms = timed(lambda: frames_from_phonemes(rendering.phonemes, duration))
    return Synthesis(
        audio=pcm16_to_wav(rendering.pcm, rendering.sample_rate),
        mime_type="audio/wav",
        duration_ms=duration,
        visemes=visemes,
        align_ms=align_ms,
    )


class EspeakTTS:
    """Offline default voice: robotic, free, instant, with exact phoneme timings."""

    name = PROVIDER

    def __init__(self, library: str | None = None) -> None:
        self._library = library

    async def synthesize(self, text: str, voice: VoiceSettings) -> Synthesis:
        return await asyncio.to_thread(synthesis, text, voice, self._library)

    async def list_voices(self) -> list[VoiceInfo]:
        def voices() -> list[VoiceInfo]:
            with _LOCK:
                return _engine(self._library).voices()

        return await asyncio.to_thread(voices)
