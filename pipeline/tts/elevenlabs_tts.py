"""ElevenLabs speech with per-character timings (``stream/with-timestamps``).

The stream is newline-delimited JSON: base64 PCM plus character alignments whose times count
from the start of this request's audio. We ask for ``pcm_22050`` so the duration is exact and
the WAV needs no decoder, and map the normalised alignment (numbers spelled out) to visemes.
"""

from __future__ import annotations

import base64
import binascii

import httpx
from elevenlabs import AsyncElevenLabs
from elevenlabs import VoiceSettings as ElevenVoiceSettings
from elevenlabs.core.api_error import ApiError
from elevenlabs.core.request_options import RequestOptions

from pipeline.audio import pcm16_to_wav
from pipeline.errors import (
    ProviderAuthError,
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
)
from pipeline.tts.base import Synthesis, VoiceInfo, VoiceSettings
from pipeline.visemes import frames_from_characters, timed

PROVIDER = "elevenlabs"
PCM_RATE = 22050


def translate_elevenlabs_error(e: Exception, provider: str = PROVIDER) -> ProviderError:
    """SDK/transport error -> our tree; callers ``raise ... from e``."""
    if isinstance(e, httpx.TransportError):  # connect errors and timeouts
        return ProviderUnavailable(provider, f"cannot reach the API: {e!r}")
    if isinstance(e, ApiError):
        status = e.status_code or 0
        detail = f"HTTP {status}: {e.body}"
        if status == 429:
            return ProviderRateLimited(provider, detail)
        if status in (401, 403):
            return ProviderAuthError(provider, detail)
        if status >= 500:
            return ProviderUnavailable(provider, detail)
    return ProviderBadResponse(provider, str(e))


def elevenlabs_client(
    api_key: str, base_url: str | None, timeout_s: float
) -> tuple[AsyncElevenLabs, httpx.AsyncClient]:
    """The SDK client plus the HTTP pool we own, so ``aclose()`` can release it."""
    http = httpx.AsyncClient(timeout=timeout_s, follow_redirects=True)
    if base_url is None:
        return AsyncElevenLabs(api_key=api_key, httpx_client=http), http
    return AsyncElevenLabs(api_key=api_key, base_url=base_url, httpx_client=http), http


class ElevenLabsTTS:
    name = PROVIDER

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        model_id: str = "eleven_flash_v2_5",
        max_retries: int = 2,
        timeout_s: float = 30.0,
    ) -> None:
        self._client, self._http = elevenlabs_client(api_key, base_url, timeout_s)
        self._model_id = model_id
        self._options: RequestOptions = {"max_retries": max_retries}

    async def aclose(self) -> None:
        """Close the HTTP pool; the app's lifespan calls this on shutdown."""
        await self._http.aclose()

    async def synthesize(self, text: str, voice: VoiceSettings) -> Synthesis:
        pcm = bytearray()
        chars: list[str] = []
        starts: list[float] = []
        ends: list[float] = []
        try:
            stream = self._client.text_to_speech.stream_with_timestamps(
                voice.voice_id,
                text=text,
                model_id=self._model_id,
                output_format="pcm_22050",
                voice_settings=ElevenVoiceSettings(
                    stability=voice.stability,
                    similarity_boost=voice.similarity,
                    speed=min(1.2, max(0.7, voice.speed)),  # the range the API accepts
                ),
                request_options=self._options,
            )
            async for chunk in stream:
                if chunk.audio_base_64:
                    pcm += base64.b64decode(chunk.audio_base_64, validate=True)
                alignment = chunk.normalized_alignment or chunk.alignment
                if alignment is not None:
                    chars += alignment.characters
                    starts += alignment.character_start_times_seconds
                    ends += alignment.character_end_times_seconds
        except (ApiError, httpx.HTTPError) as e:
            raise translate_elevenlabs_error(e) from e
        except (binascii.Error, ValueError) as e:
            raise ProviderBadResponse(PROVIDER, f"undecodable audio chunk: {e}") from e
        if not pcm or len(pcm) % 2:
            raise ProviderBadResponse(PROVIDER, f"stream carried {len(pcm)} bytes of PCM")
        duration = round(len(pcm) / 2 * 1000 / PCM_RATE)
        visemes, align_ms = timed(lambda: frames_from_characters(chars, starts, ends, duration))
        return Synthesis(
            audio=pcm16_to_wav(bytes(pcm), PCM_RATE),
            mime_type="audio/wav",
            duration_ms=duration,
            visemes=visemes,
            align_ms=align_ms,
        )

    async def list_voices(self) -> list[VoiceInfo]:
        """Every voice the account can use (``GET /v2/voices``, all pages)."""
        voices: list[VoiceInfo] = []
        token: str | None = None
        try:
            while True:
                page = await self._client.voices.search(
                    page_size=100, next_page_token=token, request_options=self._options
                )
                for v in page.voices:
                    labels = v.labels or {}
                    language = labels.get("language") or next(
                        (lang.language for lang in v.verified_languages or () if lang.language),
                        "en",
                    )
                    voices.append(
                        VoiceInfo(
                            PROVIDER,
                            v.voice_id,
                            v.name or v.voice_id,
                            language,
                            v.description or "",
                        )
                    )
                token = page.next_page_token
                if not page.has_more or not token:
                    return voices
        except (ApiError, httpx.HTTPError) as e:
            raise translate_elevenlabs_error(e) from e
