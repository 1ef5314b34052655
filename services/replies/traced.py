"""A reply's providers wrapped in spans, when tracing is on (``services.tracing``).

Wrapped per reply, not once at start-up: the app still sees its own provider objects (the
local model it starts, the STT pool whose load /metrics reads). The pipeline starts its tasks
inside the reply's span, so each sentence's speech and each stored chunk is a child of it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from pipeline.llm.base import ChatMessage, LLMProvider, ModelInfo, answering
from pipeline.storage.base import BlobStorage
from pipeline.tts.base import Synthesis, TTSProvider, VoiceInfo, VoiceSettings
from services import tracing


class TracedLLM:
    """One ``llm`` span per reply: when the first token came and how many fragments followed."""

    def __init__(self, inner: LLMProvider, model: str = "") -> None:
        self.inner, self.model, self.name = inner, model, inner.name

    def answering(self) -> tuple[LLMProvider, ModelInfo]:
        chosen, info = answering(self.inner)
        traced: LLMProvider = TracedLLM(chosen, info.model)
        return traced, info

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        # Not a current span: the caller's publishes between fragments are not the model's.
        span = tracing.start(
            "llm",
            {
                "gen_ai.system": self.inner.name,
                "gen_ai.request.model": self.model or self.inner.name,
                "holomate.llm.prompt_messages": len(messages),
            },
        )
        started = time.monotonic()
        fragments = 0
        inner = self.inner.stream(messages)
        try:
            async for fragment in inner:
                if fragment and not fragments:
                    first_ms = round((time.monotonic() - started) * 1000, 1)
                    span.set_attribute("holomate.llm.first_token_ms", first_ms)
                fragments += bool(fragment)
                yield fragment
        finally:
            # Streamed chunks: one a token from OpenAI-compatible servers (the local model too).
            span.set_attribute("gen_ai.usage.output_tokens", fragments)
            aclose = getattr(inner, "aclose", None)
            if aclose is not None:
                await aclose()
            span.end()


class TracedTTS:
    """One ``tts.sentence`` span a sentence, with its mouth track's alignment as a child."""

    def __init__(self, inner: TTSProvider) -> None:
        self.inner, self.name = inner, inner.name

    async def synthesize(self, text: str, voice: VoiceSettings) -> Synthesis:
        attributes: tracing.Attributes = {
            "holomate.tts.provider": self.inner.name,
            "holomate.tts.chars": len(text),
        }
        with tracing.span("tts.sentence", attributes) as span:
            synthesis = await self.inner.synthesize(text, voice)
            span.set_attribute("holomate.tts.audio_ms", synthesis.duration_ms)
            # Aligned last, where the speech ran (a worker process): placed at its end.
            ended = time.time_ns()
            align = tracing.start(
                "visemes.align",
                {"holomate.visemes.frames": len(synthesis.visemes)},
                start_time_ns=ended - round(synthesis.align_ms * 1e6),
            )
            align.end(end_time=ended)
        return synthesis

    async def list_voices(self) -> list[VoiceInfo]:
        return await self.inner.list_voices()


class TracedStorage:
    """A ``storage.put`` span per stored chunk of audio; the rest passes through."""

    def __init__(self, inner: BlobStorage) -> None:
        self.inner = inner

    async def put(self, key: str, data: bytes, mime_type: str) -> None:
        attributes: tracing.Attributes = {
            "holomate.storage.bytes": len(data),
            "holomate.storage.mime": mime_type,
        }
        with tracing.span("storage.put", attributes):
            await self.inner.put(key, data, mime_type)

    async def get(self, key: str) -> bytes:
        return await self.inner.get(key)

    async def delete_prefix(self, prefix: str) -> int:
        return await self.inner.delete_prefix(prefix)

    async def list_prefix(self, prefix: str) -> list[str]:
        return await self.inner.list_prefix(prefix)

    def signed_url(self, key: str, expires_in_s: int) -> str:
        return self.inner.signed_url(key, expires_in_s)
