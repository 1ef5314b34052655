"""Pick the speech, language and storage providers from settings.

Offline providers are the default; a cloud provider is added when its key is configured, so
switching never touches the schema.
"""

from __future__ import annotations

import logging

from api.settings import Settings
from pipeline.llm.base import LLMProvider
from pipeline.llm.llama_server import MODEL_NAME, ServerOptions
from pipeline.llm.local import PersonaResponder
from pipeline.llm.local_model import LocalModelLLM
from pipeline.llm.openai_llm import OpenAICompatibleLLM
from pipeline.storage.base import BlobStorage
from pipeline.storage.local import LocalBlobStorage
from pipeline.stt import whisper_stt
from pipeline.stt.base import STTProvider
from pipeline.stt.elevenlabs_stt import ElevenLabsSTT
from pipeline.stt.openai_stt import OpenAISTT
from pipeline.stt.pocketsphinx_stt import PocketsphinxSTT
from pipeline.stt.process_pool import Engine, ProcessPoolSTT
from pipeline.stt.whisper_stt import WhisperSTT
from pipeline.tts import piper_tts
from pipeline.tts.base import TTSProvider
from pipeline.tts.elevenlabs_tts import ElevenLabsTTS
from pipeline.tts.espeak import EspeakTTS
from pipeline.tts.fallback import FallbackTTS
from pipeline.tts.openai_tts import OpenAITTS
from pipeline.tts.process_pool import ProcessPoolTTS
from services.replies import Providers

log = logging.getLogger("holomate.providers")


def build_storage(settings: Settings) -> BlobStorage:
    """Files under HOLOMATE_STORAGE_DIR, or a bucket with HOLOMATE_STORAGE=s3."""
    if settings.storage == "s3":
        from pipeline.storage.s3 import S3BlobStorage, make_client

        client = make_client(
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            timeout_s=settings.s3_timeout_s,
            max_attempts=settings.s3_max_attempts,
            addressing_style=settings.s3_addressing_style,
        )
        return S3BlobStorage(client, settings.s3_bucket, settings.s3_prefix)
    return LocalBlobStorage(settings.storage_dir, secret=settings.secret_key.get_secret_value())


def build_llm(settings: Settings) -> LLMProvider:
    """HOLOMATE_LLM_BASE_URL's endpoint when set; else OpenAI when its key is set (unless
    HOLOMATE_LLM_ENGINE=local); else the local model (started by ``start_llm``, the persona
    responder answering as a fallback when it cannot run), or with HOLOMATE_LLM_ENGINE=responder
    the persona responder itself."""
    responder = PersonaResponder(word_delay_s=settings.offline_llm_word_delay_s)
    if settings.llm_base_url or (
        settings.llm_engine != "local" and settings.openai_api_key.get_secret_value()
    ):
        return OpenAICompatibleLLM(*llm_endpoint(settings), settings.llm_model)
    if settings.llm_engine == "responder":
        return responder
    options = ServerOptions(
        ctx_size=settings.llm_context_tokens,
        threads=settings.llm_local_threads,
        max_reply_tokens=settings.llm_reply_tokens,
        start_timeout_s=settings.llm_local_start_timeout_s,
        alias=settings.llm_local_model.stem if settings.llm_local_model else MODEL_NAME,
    )
    return LocalModelLLM(
        responder,
        options,
        settings.llm_local_dir,
        binary=settings.llm_local_server,
        model_file=settings.llm_local_model,
    )


def llm_endpoint(settings: Settings) -> tuple[str | None, str]:
    """(base URL, API key) of the chat endpoint: HOLOMATE_LLM_BASE_URL's, else OpenAI's."""
    if settings.llm_base_url:
        return settings.llm_base_url, settings.llm_api_key.get_secret_value()
    return settings.openai_base_url or None, settings.openai_api_key.get_secret_value()


async def start_llm(llm: LLMProvider) -> None:
    """Start the local model's server, if that is the provider (a few seconds; it falls back to
    the persona responder if it cannot)."""
    if isinstance(llm, LocalModelLLM):
        await llm.start()


def build_tts(settings: Settings) -> dict[str, TTSProvider]:
    """Every configured voice provider, by the name a voice profile stores; offline speech in
    HOLOMATE_SPEECH_WORKERS processes (they start on its first sentence)."""
    espeak = build_offline_speech(settings)
    providers: dict[str, TTSProvider] = {"espeak": espeak}
    if settings.piper_offered and piper_tts.installed():
        providers["piper"] = FallbackTTS(build_neural_speech(settings), espeak)
    openai_key = settings.openai_api_key.get_secret_value()
    if openai_key:
        providers["openai"] = OpenAITTS(openai_key, base_url=settings.openai_base_url or None)
    elevenlabs_key = settings.elevenlabs_api_key.get_secret_value()
    if elevenlabs_key:
        providers["elevenlabs"] = ElevenLabsTTS(
            elevenlabs_key, base_url=settings.elevenlabs_base_url or None
        )
    return providers


def build_offline_speech(settings: Settings) -> TTSProvider:
    if settings.speech_workers == 0:
        return EspeakTTS()  # in a thread of this process: its CPU competes with the event loop
    return ProcessPoolTTS(
        workers=settings.speech_workers,
        queue=settings.speech_queue,
        timeout_s=settings.speech_timeout_s,
    )


def build_neural_speech(settings: Settings) -> TTSProvider:
    if settings.piper_workers == 0:
        return piper_tts.PiperTTS()
    return piper_tts.PiperPoolTTS(
        workers=settings.piper_workers,
        queue=settings.speech_queue,
        timeout_s=settings.speech_timeout_s,
    )


def build_stt(settings: Settings) -> STTProvider:
    choice = settings.stt_provider
    if choice == "openai":
        return OpenAISTT(
            settings.openai_api_key.get_secret_value(), base_url=settings.openai_base_url or None
        )
    if choice == "elevenlabs":
        return ElevenLabsSTT(
            settings.elevenlabs_api_key.get_secret_value(),
            base_url=settings.elevenlabs_base_url or None,
        )
    engine: Engine = "pocketsphinx"
    if choice == "whisper":
        if whisper_stt.is_installed():
            engine = "whisper"
        else:
            log.warning("faster-whisper is not installed (./dev setup): using pocketsphinx")
    if settings.stt_workers == 0:  # in this process: for comparisons only
        if engine == "whisper":
            return WhisperSTT(settings.stt_model_dir)  # threads of this process, every core
        return PocketsphinxSTT()  # stalls the event loop while it decodes (holds the GIL)
    return ProcessPoolSTT(
        workers=settings.stt_workers,
        queue=settings.stt_queue,
        timeout_s=settings.stt_timeout_s,
        engine=engine,
        model_dir=settings.stt_model_dir,
    )


def build_providers(settings: Settings, storage: BlobStorage) -> Providers:
    return Providers(
        llm=build_llm(settings), tts=build_tts(settings), stt=build_stt(settings), storage=storage
    )
