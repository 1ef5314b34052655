"""Speech-to-text interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class WordTiming:
    word: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    words: tuple[WordTiming, ...] = field(default_factory=tuple)


class STTProvider(Protocol):
    name: str

    async def transcribe(
        self, audio: bytes, mime_type: str, language: str = "en"
    ) -> Transcript: ...
