"""Fakes of outside providers: real implementations of the protocols with latency and failure
knobs, recording when things happened so tests can prove concurrency and cancellation."""

from __future__ import annotations

import asyncio
import io
import time
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from pipeline.errors import ProviderError
from pipeline.events import (
    AudioChunk,
    EmotionChanged,
    MessageDelta,
    ReplyEvent,
    Viseme,
    VisemeFrame,
    VisemeFrames,
)
from pipeline.llm.base import ChatMessage
from pipeline.tts.base import Synthesis, VoiceInfo, VoiceSettings

SAMPLE_RATE = 16000
_VOWELS = {"a": Viseme.AA, "e": Viseme.E, "i": Viseme.IH, "o": Viseme.OH, "u": Viseme.OU}


def wav_bytes(duration_ms: int) -> bytes:
    """A valid 16 kHz mono 16-bit WAV of silence."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(b"\0\0" * (SAMPLE_RATE * duration_ms // 1000))
    return out.getvalue()


class ScriptedLLM:
    """Yields fragments with a delay before each; can fail after ``fail_after`` of them."""

    name = "scripted"

    def __init__(
        self,
        fragments: list[str],
        delay_s: float = 0.0,
        *,
        fail_after: int | None = None,
        error: ProviderError | None = None,
    ) -> None:
        self.fragments = fragments
        self.delay_s = delay_s
        self.fail_after = fail_after
        self.error = error
        self.yielded_at: list[float] = []
        self.stopped_at: float | None = None
        self.cancelled = False
        self.finished = False
        self.seen: list[ChatMessage] = []

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        self.seen = messages
        try:
            for index, fragment in enumerate(self.fragments):
                if self.fail_after is not None and index == self.fail_after:
                    assert self.error is not None
                    raise self.error
                await asyncio.sleep(self.delay_s)
                self.yielded_at.append(time.monotonic())
                yield fragment
            self.finished = True
        except (asyncio.CancelledError, GeneratorExit):
            self.cancelled = True
            raise
        finally:
            self.stopped_at = time.monotonic()


@dataclass
class SynthCall:
    text: str
    started_at: float
    ended_at: float | None = None
    cancelled: bool = False


class FakeTTS:
    """Speaks ``ms_per_char`` per character after ``latency_s`` (+ per character); fails on
    text containing ``fail_on``. Visemes: one frame per vowel, evenly spread over the audio."""

    name = "fake"

    def __init__(
        self,
        latency_s: float = 0.02,
        ms_per_char: int = 50,
        *,
        latency_per_char_s: float = 0.0,
        fail_on: str | None = None,
        error: ProviderError | None = None,
    ) -> None:
        self.latency_s = latency_s
        self.latency_per_char_s = latency_per_char_s
        self.ms_per_char = ms_per_char
        self.fail_on = fail_on
        self.error = error
        self.calls: list[SynthCall] = []

    async def synthesize(self, text: str, voice: VoiceSettings) -> Synthesis:
        call = SynthCall(text, time.monotonic())
        self.calls.append(call)
        try:
            await asyncio.sleep(self.latency_s + self.latency_per_char_s * len(text))
        except asyncio.CancelledError:
            call.cancelled = True
            raise
        finally:
            call.ended_at = time.monotonic()
        if self.fail_on is not None and self.fail_on in text:
            assert self.error is not None
            raise self.error
        duration = len(text) * self.ms_per_char
        vowels = [_VOWELS[c] for c in text.lower() if c in _VOWELS] or [Viseme.SIL]
        step = duration // len(vowels)
        frames = tuple(VisemeFrame(v, i * step, (i + 1) * step) for i, v in enumerate(vowels))
        return Synthesis(wav_bytes(duration), "audio/wav", duration, frames)

    async def list_voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(self.name, "fake-1", "Fake", "en")]


@dataclass
class Recorder:
    """An ``emit`` callback that keeps every event with the time it arrived."""

    events: list[ReplyEvent] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    async def __call__(self, event: ReplyEvent) -> None:
        self.events.append(event)
        self.times.append(time.monotonic())

    def of(self, kind: type[ReplyEvent]) -> list[ReplyEvent]:
        return [e for e in self.events if isinstance(e, kind)]

    def time_of_first(self, kind: type[ReplyEvent]) -> float:
        return next(t for e, t in zip(self.events, self.times, strict=True) if isinstance(e, kind))

    @property
    def deltas(self) -> list[MessageDelta]:
        return [e for e in self.events if isinstance(e, MessageDelta)]

    @property
    def audio(self) -> list[AudioChunk]:
        return [e for e in self.events if isinstance(e, AudioChunk)]

    @property
    def visemes(self) -> list[VisemeFrames]:
        return [e for e in self.events if isinstance(e, VisemeFrames)]

    @property
    def emotions(self) -> list[EmotionChanged]:
        return [e for e in self.events if isinstance(e, EmotionChanged)]


class MemoryStorage:
    """A BlobStorage that never yields to the event loop, the worst case for cancellation."""

    def __init__(self) -> None:
        self.blobs: dict[str, tuple[bytes, str]] = {}

    async def put(self, key: str, data: bytes, mime_type: str) -> None:
        self.blobs[key] = (data, mime_type)

    async def get(self, key: str) -> bytes:
        return self.blobs[key][0]

    async def delete_prefix(self, prefix: str) -> int:
        keys = [k for k in self.blobs if k.startswith(prefix.rstrip("/") + "/")]
        for key in keys:
            del self.blobs[key]
        return len(keys)

    async def list_prefix(self, prefix: str) -> list[str]:
        return sorted(k for k in self.blobs if k.startswith(prefix.rstrip("/") + "/"))

    def signed_url(self, key: str, expires_in_s: int) -> str:
        return f"memory://{key}"
