"""A voice that falls back to another: the neural offline voice over espeak-ng.

A sentence the primary cannot speak (not installed, a voice that will not load, a language it
lacks, a worker that died) is spoken by the fallback instead, so a reply never loses its audio
to an optional engine. Only "busy" passes through: the fallback shares the same cores, and the
reply pipeline turns it into text (``SPEECH_BUSY``). After a failure that would repeat for every
sentence (unavailable), the primary rests for ``rest_s`` rather than cost each sentence a
worker start.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace

from pipeline.errors import ProviderError, ProviderUnavailable
from pipeline.process_slots import start_workers_of
from pipeline.tts.base import SpeechBusy, Synthesis, TTSProvider, VoiceInfo, VoiceSettings

log = logging.getLogger("holomate.tts")


@dataclass(eq=False)
class FallbackTTS:
    primary: TTSProvider
    fallback: TTSProvider
    rest_s: float = 60.0
    name: str = field(init=False)  # the primary's: profiles name it
    _resting_until: float = 0.0

    def __post_init__(self) -> None:
        self.name = self.primary.name

    async def synthesize(self, text: str, voice: VoiceSettings) -> Synthesis:
        if time.monotonic() >= self._resting_until:
            try:
                return await self.primary.synthesize(text, voice)
            except SpeechBusy:
                raise
            except ProviderError as e:
                log.warning("%s failed, %s speaks instead: %s", self.name, self.fallback.name, e)
                if isinstance(e, ProviderUnavailable):
                    self._resting_until = time.monotonic() + self.rest_s
        # The primary's voice id means nothing to the fallback: its default for the language.
        return await self.fallback.synthesize(text, replace(voice, voice_id=voice.language))

    async def list_voices(self) -> list[VoiceInfo]:
        return await self.primary.list_voices()

    def start_workers(self) -> None:
        """The primary's (the fallback's start on its first sentence, if one ever fails)."""
        start_workers_of(self.primary)

    async def aclose(self) -> None:
        close = getattr(self.primary, "aclose", None)
        if close is not None:
            await close()
