"""OpenAI transcription (``audio.transcriptions``); word timings via ``verbose_json``.

Only ``whisper-1`` returns word timestamps; the gpt-4o transcribe models answer plain ``json``,
so for them the transcript comes without words.
"""

from __future__ import annotations

import openai
from openai import AsyncOpenAI

from pipeline.stt.base import Transcript, WordTiming
from pipeline.tts.openai_tts import translate_openai_error

PROVIDER = "openai"
_EXTENSIONS = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/webm": "webm",
    "audio/flac": "flac",
    "audio/mp4": "m4a",
}


class OpenAISTT:
    name = PROVIDER

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        model: str = "whisper-1",
        max_retries: int = 2,
        timeout_s: float = 60.0,
    ) -> None:
        self._client = AsyncOpenAI(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout_s
        )
        self._model = model

    async def aclose(self) -> None:
        """Close the HTTP pool; the app's lifespan calls this on shutdown."""
        await self._client.close()

    async def transcribe(self, audio: bytes, mime_type: str, language: str = "en") -> Transcript:
        kind = mime_type.split(";")[0].strip().lower()
        upload = (f"speech.{_EXTENSIONS.get(kind, 'wav')}", audio, kind)
        try:
            if self._model == "whisper-1":
                verbose = await self._client.audio.transcriptions.create(
                    model=self._model,
                    file=upload,
                    language=language,
                    response_format="verbose_json",
                    timestamp_granularities=["word"],
                )
                words = tuple(
                    WordTiming(w.word.strip(), round(w.start * 1000), round(w.end * 1000))
                    for w in verbose.words or ()
                )
                return Transcript(text=verbose.text.strip(), words=words)
            plain = await self._client.audio.transcriptions.create(
                model=self._model, file=upload, language=language, response_format="json"
            )
        except openai.OpenAIError as e:
            raise translate_openai_error(e, PROVIDER) from e
        return Transcript(text=plain.text.strip())
