"""The AI providers a reply uses, built once by the app (api/providers.py)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from pipeline.llm.base import LLMProvider
from pipeline.process_slots import start_workers_of
from pipeline.storage.base import BlobStorage
from pipeline.stt.base import STTProvider
from pipeline.tts.base import TTSProvider


@dataclass(slots=True)
class Providers:
    llm: LLMProvider
    tts: dict[str, TTSProvider]
    stt: STTProvider
    storage: BlobStorage
    default_tts: str = "espeak"

    def tts_for(self, provider: str | None) -> TTSProvider:
        return self.tts.get(provider or self.default_tts) or self.tts[self.default_tts]

    def start_workers(self, voice: str | None) -> None:
        """Start the worker processes of the offline engines a spoken turn answered in
        ``voice`` uses (speech-to-text, the voice), so its reply does not wait for them;
        cloud providers have none."""
        for provider in (self.stt, self.tts_for(voice)):
            start_workers_of(provider)

    async def aclose(self) -> None:
        """Cloud providers own HTTP clients; offline ones have nothing to close."""
        for provider in (self.llm, self.stt, *self.tts.values()):
            close = getattr(provider, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
