"""Text-to-speech interface: one sentence in, audio plus a mouth track aligned to it out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pipeline.errors import ProviderRateLimited, ProviderUnavailable
from pipeline.events import VisemeFrame


@dataclass(frozen=True, slots=True)
class VoiceSettings:
    """What a companion's voice profile asks of a provider; providers ignore what they lack."""

    voice_id: str = "en-us"
    language: str = "en"
    speed: float = 1.0
    stability: float = 0.5
    similarity: float = 0.75


@dataclass(frozen=True, slots=True)
class VoiceInfo:
    provider: str
    voice_id: str
    name: str
    language: str
    preview_text: str = ""


@dataclass(frozen=True, slots=True)
class Synthesis:
    audio: bytes
    mime_type: str
    duration_ms: int
    visemes: tuple[VisemeFrame, ...] = field(default_factory=tuple)
    align_ms: float = 0.0  # of the time taken, aligning the mouth track (a trace shows it)


class SpeechBusy(ProviderRateLimited):
    """Speech synthesised on this server is too far behind: the reply goes on as text."""


class SpeechWorkerLost(ProviderUnavailable):
    """The process synthesising this sentence stopped (killed, timed out): it has no audio."""


class TTSProvider(Protocol):
    name: str

    async def synthesize(self, text: str, voice: VoiceSettings) -> Synthesis: ...

    async def list_voices(self) -> list[VoiceInfo]: ...
