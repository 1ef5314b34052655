"""ElevenLabs through the official SDK against a local server speaking its wire format."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from pipeline.audio import read_wav, speech_bounds_ms
from pipeline.errors import ProviderAuthError, ProviderRateLimited, ProviderUnavailable
from pipeline.events import Viseme
from pipeline.stt.base import WordTiming
from pipeline.stt.elevenlabs_stt import ElevenLabsSTT
from pipeline.tts.base import VoiceSettings
from pipeline.tts.elevenlabs_tts import ElevenLabsTTS
from pipeline.tts.espeak import render
from tests.pipeline.wire_servers import GOOD_KEY, Wire, elevenlabs_app, serve

TEXT = "Mama, see the ship."


@pytest.fixture
def wire() -> Wire:
    spoken = render(TEXT, VoiceSettings())
    start, end = speech_bounds_ms(spoken.pcm, spoken.sample_rate) or (0, spoken.duration_ms)
    step = (end - start) / len(TEXT) / 1000
    starts = [round(start / 1000 + i * step, 3) for i in range(len(TEXT))]
    return Wire(
        speech_pcm=spoken.pcm,
        alignment={
            "characters": list(TEXT),
            "character_start_times_seconds": starts,
            "character_end_times_seconds": [round(s + step, 3) for s in starts],
        },  # fmt: skip
    )


@pytest.fixture
def base_url(wire: Wire) -> Iterator[str]:
    with serve(elevenlabs_app(wire)) as url:
        yield url


async def test_streamed_chunks_join_into_wav_with_aligned_visemes(
    wire: Wire, base_url: str
) -> None:
    tts = ElevenLabsTTS(GOOD_KEY, base_url=base_url, model_id="eleven_flash_v2_5", max_retries=0)
    voice = VoiceSettings(voice_id="JBFqnCBsd6RMkjVDRZzb", stability=0.3, similarity=0.9, speed=1.1)
    result = await tts.synthesize(TEXT, voice)
    await tts.aclose()

    request = wire.requests[-1]
    assert request["path"] == "/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb/stream/with-timestamps"
    assert request["query"]["output_format"] == "pcm_22050"
    assert request["json"]["voice_settings"] == {
        "stability": 0.3,
        "similarity_boost": 0.9,
        "speed": 1.1,
    }
    assert request["json"]["model_id"] == "eleven_flash_v2_5"
    wav = read_wav(result.audio)
    assert (wav.sample_rate, wav.pcm) == (22050, wire.speech_pcm)  # three chunks, in order
    assert result.duration_ms == wav.duration_ms
    frames = result.visemes
    assert frames[0].start_ms == 0 and frames[-1].end_ms == result.duration_ms
    shapes = [f.viseme for f in frames]
    assert shapes[:4] == [Viseme.PP, Viseme.AA, Viseme.PP, Viseme.AA]  # "Mama"
    assert Viseme.SS in shapes and Viseme.CH in shapes  # "see", "sh"
    # the alignment is cumulative across chunks: the last letter lands near the end of speech
    last_speech = [f for f in frames if f.viseme != Viseme.SIL][-1]
    assert last_speech.end_ms >= wire.alignment["character_end_times_seconds"][-2] * 1000 - 1


async def test_voices_are_listed_across_pages(wire: Wire, base_url: str) -> None:
    wire.voices_pages = [
        [{"voice_id": "v1", "name": "Rachel", "category": "premade", "labels": {"language": "en"}}],
        [{"voice_id": "v2", "name": "Matilde", "description": "warm",
          "verified_languages": [{"language": "it", "model_id": "eleven_multilingual_v2"}]}],
    ]  # fmt: skip
    tts = ElevenLabsTTS(GOOD_KEY, base_url=base_url, max_retries=0)
    voices = await tts.list_voices()
    await tts.aclose()
    assert [(v.voice_id, v.name, v.language, v.preview_text) for v in voices] == [
        ("v1", "Rachel", "en", ""),
        ("v2", "Matilde", "it", "warm"),
    ]
    assert [r["query"].get("next_page_token") for r in wire.requests] == [None, "1"]


def closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    ("key", "fail_with", "expected"),
    [
        ("wrong", None, ProviderAuthError),
        (GOOD_KEY, 429, ProviderRateLimited),
        (GOOD_KEY, 500, ProviderUnavailable),
    ],  # fmt: skip
)
async def test_errors_are_translated(
    wire: Wire, base_url: str, key: str, fail_with: int | None, expected: type[Exception]
) -> None:
    wire.fail_with = fail_with
    tts, stt = (
        ElevenLabsTTS(key, base_url, max_retries=0),
        ElevenLabsSTT(key, base_url, max_retries=0),
    )
    with pytest.raises(expected) as caught:
        await tts.synthesize("hi", VoiceSettings(voice_id="v1"))
    assert caught.value.__cause__ is not None
    with pytest.raises(expected):
        await tts.list_voices()
    with pytest.raises(expected):
        await stt.transcribe(b"RIFF", "audio/wav")
    await tts.aclose()
    await stt.aclose()


async def test_unreachable_api_is_unavailable() -> None:
    tts = ElevenLabsTTS(GOOD_KEY, base_url=closed_port_url(), max_retries=0)
    with pytest.raises(ProviderUnavailable) as caught:
        await tts.synthesize("hi", VoiceSettings(voice_id="v1"))
    assert caught.value.retryable
    await tts.aclose()


async def test_transcription_keeps_words_and_drops_spacing(wire: Wire, base_url: str) -> None:
    wire.transcript = {
        "language_code": "eng", "language_probability": 0.98, "text": "Hello there.",
        "words": [
            {"text": "Hello", "start": 0.1, "end": 0.5, "type": "word", "logprob": -0.1},
            {"text": " ", "start": 0.5, "end": 0.6, "type": "spacing", "logprob": 0.0},
            {"text": "there.", "start": 0.6, "end": 1.0, "type": "word", "logprob": -0.2},
        ],
    }  # fmt: skip
    stt = ElevenLabsSTT(GOOD_KEY, base_url=base_url, max_retries=0)
    transcript = await stt.transcribe(b"RIFF....WAVE", "audio/wav")
    await stt.aclose()
    assert transcript.text == "Hello there."
    assert transcript.words == (WordTiming("Hello", 100, 500), WordTiming("there.", 600, 1000))
    form = wire.requests[-1]["form"]
    assert form["file"] == (b"RIFF....WAVE", "speech", "audio/wav")
    assert (form["model_id"], form["language_code"], form["timestamps_granularity"]) == (
        "scribe_v1",
        "en",
        "word",
    )
