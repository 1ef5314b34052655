"""The offline speech-to-text engine is chosen by settings: Whisper by default (when installed),
PocketSphinx as the light fallback; either runs in the worker pool and hears an upload and a
streamed session's raw PCM alike."""

from __future__ import annotations

import pytest

from api.providers import build_stt
from api.settings import Settings
from pipeline.audio import pcm16_mono_at, pcm16_to_wav, read_wav
from pipeline.stt import whisper_stt
from pipeline.stt.process_pool import ProcessPoolSTT
from pipeline.tts.base import VoiceSettings
from pipeline.tts.espeak import render
from tests.pipeline.speech_metrics import normalized_word_error_rate

SENTENCE = "can you play some music for me"


def test_whisper_is_the_default_when_installed(settings: Settings) -> None:
    stt = build_stt(settings)
    assert isinstance(stt, ProcessPoolSTT)
    assert stt.engine == ("whisper" if whisper_stt.is_installed() else "pocketsphinx")


@pytest.mark.parametrize(
    ("provider", "most_errors"),
    [
        pytest.param(
            "whisper",
            0.15,
            marks=pytest.mark.skipif(not whisper_stt.is_installed(), reason="not installed"),
        ),
        ("pocketsphinx", 0.5),  # free dictation: about one word in five wrong
    ],
)
async def test_the_chosen_engine_hears_an_upload_and_raw_pcm(
    settings: Settings, provider: str, most_errors: float
) -> None:
    stt = build_stt(settings.model_copy(update={"stt_provider": provider}))
    assert isinstance(stt, ProcessPoolSTT) and stt.name == provider
    spoken = render(SENTENCE, VoiceSettings())
    pcm = pcm16_mono_at(read_wav(pcm16_to_wav(spoken.pcm, spoken.sample_rate)), 16000)
    try:
        for heard in (
            await stt.transcribe(pcm16_to_wav(pcm, 16000), "audio/wav"),
            await stt.transcribe_pcm(pcm),
        ):
            assert normalized_word_error_rate(SENTENCE, heard.text) <= most_errors, heard.text
            assert heard.words and heard.words[-1].end_ms <= len(pcm) // 32 + 100
    finally:
        await stt.aclose()
