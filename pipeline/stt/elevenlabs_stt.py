"""ElevenLabs Scribe transcription (``POST /v1/speech-to-text``) with word timings."""

from __future__ import annotations

import httpx
from elevenlabs.core.api_error import ApiError
from elevenlabs.core.request_options import RequestOptions

from pipeline.errors import ProviderBadResponse
from pipeline.stt.base import Transcript, WordTiming
from pipeline.tts.elevenlabs_tts import elevenlabs_client, translate_elevenlabs_error

PROVIDER = "elevenlabs"


class ElevenLabsSTT:
    name = PROVIDER

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        model_id: str = "scribe_v1",
        max_retries: int = 2,
        timeout_s: float = 60.0,
    ) -> None:
        self._client, self._http = elevenlabs_client(api_key, base_url, timeout_s)
        self._model_id = model_id
        self._options: RequestOptions = {"max_retries": max_retries}

    async def aclose(self) -> None:
        """Close the HTTP pool; the app's lifespan calls this on shutdown."""
        await self._http.aclose()

    async def transcribe(self, audio: bytes, mime_type: str, language: str = "en") -> Transcript:
        try:
            result = await self._client.speech_to_text.convert(
                model_id=self._model_id,
                file=("speech", audio, mime_type),
                language_code=language,
                timestamps_granularity="word",
                request_options=self._options,
            )
        except (ApiError, httpx.HTTPError) as e:
            raise translate_elevenlabs_error(e, PROVIDER) from e
        text = getattr(result, "text", None)
        if not isinstance(text, str):
            raise ProviderBadResponse(PROVIDER, f"no transcript in {type(result).__name__}")
        words = tuple(
            WordTiming(w.text.strip(), round(w.start * 1000), round(w.end * 1000))
            for w in getattr(result, "words", None) or ()
            if w.type == "word" and w.start is not None and w.end is not None
        )
        return Transcript(text=text.strip(), words=words)
