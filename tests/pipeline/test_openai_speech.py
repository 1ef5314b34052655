"""OpenAI speech through the official SDK against a local server speaking OpenAI's wire format."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from pipeline.audio import pcm16_to_wav, read_wav, sox_to_pcm16_mono
from pipeline.errors import ProviderAuthError, ProviderRateLimited, ProviderUnavailable
from pipeline.stt.base import WordTiming
from pipeline.stt.openai_stt import OpenAISTT
from pipeline.tts.base import VoiceSettings
from pipeline.tts.espeak import render
from pipeline.tts.openai_tts import PCM_RATE, OpenAITTS
from pipeline.visemes import frames_from_phonemes, text_span_frames
from tests.pipeline.wire_servers import GOOD_KEY, Wire, openai_app, serve

TEXT = "Mama said the sea was calm, so we sailed home."


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def base_url(wire: Wire) -> Iterator[str]:
    with serve(openai_app(wire)) as url:
        yield f"{url}/v1"


def cloud_voice(lead_ms: int = 250, tail_ms: int = 200) -> tuple[bytes, object]:
    """A "cloud" voice with known timings: espeak at 0.8x, resampled to 24 kHz, padded."""
    spoken = render(TEXT, VoiceSettings(speed=0.8))
    pcm = sox_to_pcm16_mono(pcm16_to_wav(spoken.pcm, spoken.sample_rate), "audio/wav", PCM_RATE)
    pad = bytes(2 * PCM_RATE * lead_ms // 1000)
    audio = pad + pcm + bytes(2 * PCM_RATE * tail_ms // 1000)
    duration = round(len(audio) / 2 * 1000 / PCM_RATE)
    truth = frames_from_phonemes([(t + lead_ms, p) for t, p in spoken.phonemes], duration)
    return audio, truth


def shape_at(frames: tuple, ms: int) -> str:  # type: ignore[type-arg]
    return next(str(f.viseme) for f in frames if f.start_ms <= ms < f.end_ms)


async def test_speech_is_wav_with_visemes_fitted_to_the_real_audio(
    wire: Wire, base_url: str
) -> None:
    audio, truth = cloud_voice()
    wire.speech_pcm = audio
    tts = OpenAITTS(GOOD_KEY, base_url=base_url, max_retries=0)
    started = time.perf_counter()
    result = await tts.synthesize(TEXT, VoiceSettings(voice_id="nova", speed=1.1))
    await tts.aclose()
    elapsed_ms = (time.perf_counter() - started) * 1000

    sent = wire.requests[-1]["json"]
    assert sent == {"model": "gpt-4o-mini-tts", "input": TEXT, "voice": "nova",
                    "response_format": "pcm", "speed": 1.1}  # fmt: skip
    wav = read_wav(result.audio)
    assert (wav.sample_rate, wav.pcm) == (PCM_RATE, audio)
    assert result.duration_ms == wav.duration_ms
    frames = result.visemes
    assert frames[0].start_ms == 0 and frames[-1].end_ms == result.duration_ms
    assert shape_at(frames, 100) == "sil"  # the leading pause is found in the audio

    points = range(0, result.duration_ms, 10)
    guess = text_span_frames(TEXT, 0, result.duration_ms, result.duration_ms)
    agree = sum(shape_at(frames, t) == shape_at(truth, t) for t in points) / len(points)  # type: ignore[arg-type]
    naive = sum(shape_at(guess, t) == shape_at(truth, t) for t in points) / len(points)  # type: ignore[arg-type]
    print(
        f"\nopenai visemes: {agree:.0%} of 10 ms points match the true track "
        f"(letters spread over the clip: {naive:.0%}); synthesize() took {elapsed_ms:.0f} ms"
    )
    assert agree >= 0.85  # measured 0.93
    assert agree > naive + 0.3


async def test_voice_ids_map_to_openai_voices(wire: Wire, base_url: str) -> None:
    wire.speech_pcm = bytes(4800)
    tts = OpenAITTS(GOOD_KEY, base_url=base_url, max_retries=0, default_voice="coral")
    await tts.synthesize("hi", VoiceSettings(voice_id="en-us"))
    await tts.synthesize("hi", VoiceSettings(voice_id="voice_123abc"))
    assert [r["json"]["voice"] for r in wire.requests] == ["coral", {"id": "voice_123abc"}]
    assert {v.voice_id for v in await tts.list_voices()} >= {"alloy", "nova", "shimmer"}
    await tts.aclose()


def closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/v1"


@pytest.mark.parametrize(
    ("key", "fail_with", "expected"),
    [
        ("sk-wrong", None, ProviderAuthError),
        (GOOD_KEY, 429, ProviderRateLimited),
        (GOOD_KEY, 500, ProviderUnavailable),
    ],  # fmt: skip
)
async def test_errors_are_translated(
    wire: Wire, base_url: str, key: str, fail_with: int | None, expected: type[Exception]
) -> None:
    wire.fail_with = fail_with
    tts, stt = OpenAITTS(key, base_url, max_retries=0), OpenAISTT(key, base_url, max_retries=0)
    with pytest.raises(expected) as caught:
        await tts.synthesize("hi", VoiceSettings())
    assert caught.value.__cause__ is not None
    with pytest.raises(expected):
        await stt.transcribe(b"RIFF", "audio/wav")
    await tts.aclose()
    await stt.aclose()


async def test_unreachable_api_is_unavailable_and_retryable() -> None:
    tts = OpenAITTS(GOOD_KEY, base_url=closed_port_url(), max_retries=0)
    with pytest.raises(ProviderUnavailable) as caught:
        await tts.synthesize("hi", VoiceSettings())
    assert caught.value.retryable
    await tts.aclose()


async def test_transcription_uploads_the_audio_and_reads_word_timings(
    wire: Wire, base_url: str
) -> None:
    wire.transcript = {
        "task": "transcribe", "language": "english", "duration": 1.5, "text": " Hello there.",
        "words": [{"word": "Hello", "start": 0.1, "end": 0.52},
                  {"word": "there", "start": 0.6, "end": 1.0}],
        "segments": [{"id": 0, "seek": 0, "start": 0.1, "end": 1.0, "text": " Hello there.",
                      "tokens": [1, 2], "temperature": 0.0, "avg_logprob": -0.2,
                      "compression_ratio": 0.8, "no_speech_prob": 0.01}],
    }  # fmt: skip
    audio = pcm16_to_wav(bytes(3200), 16000)
    stt = OpenAISTT(GOOD_KEY, base_url=base_url, max_retries=0)
    transcript = await stt.transcribe(audio, "audio/wav")
    await stt.aclose()
    assert transcript.text == "Hello there."
    assert transcript.words == (WordTiming("Hello", 100, 520), WordTiming("there", 600, 1000))
    form = wire.requests[-1]["form"]
    assert form["file"] == (audio, "speech.wav", "audio/wav")
    assert (form["model"], form["response_format"], form["language"]) == (
        "whisper-1",
        "verbose_json",
        "en",
    )
    assert form["timestamp_granularities[]"] == "word"
