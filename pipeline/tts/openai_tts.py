"""OpenAI speech (``audio.speech``); the mouth track is timed by espeak-ng, then fitted.

OpenAI returns audio only. We ask for raw 24 kHz PCM (exact duration, no streamed-WAV header
quirks), find where speech starts and ends in it, render the same text with espeak-ng for its
phoneme timings and stretch those onto that span. Measured against a voice whose true timings
are known, this agrees on the mouth shape most of the time (see test_openai_speech.py); without
libespeak-ng the letters are spread evenly over the span instead.
"""

from __future__ import annotations

import asyncio

import openai
from openai import AsyncOpenAI

from pipeline.audio import pcm16_to_wav, speech_bounds_ms
from pipeline.errors import (
    ProviderAuthError,
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
)
from pipeline.events import VisemeFrame
from pipeline.tts import espeak
from pipeline.tts.base import Synthesis, VoiceInfo, VoiceSettings
from pipeline.visemes import (
    frames_from_phonemes,
    frames_from_segments,
    text_span_frames,
    timed,
)

PROVIDER = "openai"
PCM_RATE = 24000  # response_format="pcm": 24 kHz, 16-bit signed little-endian, mono
VOICES = ("alloy", "ash", "ballad", "cedar", "coral", "echo", "fable", "marin", "nova", "onyx",
          "sage", "shimmer", "verse")  # fmt: skip


def translate_openai_error(e: openai.OpenAIError, provider: str = PROVIDER) -> ProviderError:
    """SDK error -> our tree; callers ``raise translate_openai_error(e) from e``."""
    if isinstance(e, openai.APIConnectionError):  # includes timeouts
        return ProviderUnavailable(provider, f"cannot reach the API: {e}")
    if isinstance(e, openai.RateLimitError):
        return ProviderRateLimited(provider, e.message)
    if isinstance(e, openai.AuthenticationError | openai.PermissionDeniedError):
        return ProviderAuthError(provider, e.message)
    if isinstance(e, openai.APIStatusError) and e.status_code >= 500:
        return ProviderUnavailable(provider, f"HTTP {e.status_code}: {e.message}")
    return ProviderBadResponse(provider, str(e))


def espeak_voice_for(language: str) -> str:
    return "en-us" if language.lower() in ("en", "en-us") else language


def fitted_visemes(
    text: str, pcm16: bytes, sample_rate: int, language: str
) -> tuple[VisemeFrame, ...]:
    """espeak-ng phoneme timings stretched onto the speech span of someone else's audio."""
    duration = round(len(pcm16) / 2 * 1000 / sample_rate)
    target = speech_bounds_ms(pcm16, sample_rate)
    if target is None:
        return frames_from_segments([], duration)
    try:
        reference = espeak.render(
            text, VoiceSettings(voice_id=espeak_voice_for(language), language=language)
        )
    except ProviderError:
        return text_span_frames(text, *target, duration)
    source = speech_bounds_ms(reference.pcm, reference.sample_rate)
    if source is None or source[1] <= source[0]:
        return text_span_frames(text, *target, duration)
    scale = (target[1] - target[0]) / (source[1] - source[0])
    events = [
        (target[0] + round((at - source[0]) * scale), phoneme)
        for at, phoneme in reference.phonemes
        if source[0] - 20 <= at < source[1]
    ]
    return frames_from_phonemes([*events, (target[1], "_")], duration)


class OpenAITTS:
    name = PROVIDER

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        model: str = "gpt-4o-mini-tts",
        default_voice: str = "alloy",
        max_retries: int = 2,
        timeout_s: float = 30.0,
    ) -> None:
        self._client = AsyncOpenAI(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout_s
        )
        self._model = model
        self._default_voice = default_voice

    async def aclose(self) -> None:
        """Close the HTTP pool; the app's lifespan calls this on shutdown."""
        await self._client.close()

    def _voice(self, voice_id: str) -> str | dict[str, str]:
        """Built-in names pass through, ``voice_...`` ids are custom voices, others fall back."""
        if voice_id in VOICES:
            return voice_id
        if voice_id.startswith("voice_"):
            return {"id": voice_id}
        return self._default_voice

    async def synthesize(self, text: str, voice: VoiceSettings) -> Synthesis:
        try:
            response = await self._client.audio.speech.create(
                model=self._model,
                input=text,
                voice=self._voice(voice.voice_id),  # type: ignore[arg-type]
                response_format="pcm",
                speed=min(4.0, max(0.25, voice.speed)),
            )
        except openai.OpenAIError as e:
            raise translate_openai_error(e) from e
        pcm = response.content
        if len(pcm) % 2:
            raise ProviderBadResponse(PROVIDER, "PCM body has an odd number of bytes")
        visemes, align_ms = await asyncio.to_thread(
            timed, lambda: fitted_visemes(text, pcm, PCM_RATE, voice.language)
        )
        return Synthesis(
            audio=pcm16_to_wav(pcm, PCM_RATE),
            mime_type="audio/wav",
            duration_ms=round(len(pcm) / 2 * 1000 / PCM_RATE),
            visemes=visemes,
            align_ms=align_ms,
        )

    async def list_voices(self) -> list[VoiceInfo]:
        """The documented built-in voices; the API has no endpoint listing them."""
        return [VoiceInfo(PROVIDER, v, v.capitalize(), "multilingual") for v in VOICES]
