"""The offline voice: real WAV audio, a mouth track timed by the engine, voices to pick from."""

from __future__ import annotations

import asyncio
import time

import pytest

from pipeline.audio import read_wav
from pipeline.errors import ProviderBadResponse, ProviderUnavailable
from pipeline.events import Viseme
from pipeline.tts.base import VoiceSettings
from pipeline.tts.espeak import EspeakTTS
from tests.pipeline.speech_metrics import rms


async def test_synthesis_is_wav_with_matching_duration() -> None:
    result = await EspeakTTS().synthesize("Hello there, friend.", VoiceSettings())
    audio = read_wav(result.audio)
    assert result.mime_type == "audio/wav"
    assert (audio.sample_rate, audio.channels, audio.sample_width) == (22050, 1, 2)
    assert result.duration_ms == audio.duration_ms
    assert 700 < result.duration_ms < 3000


async def test_visemes_tile_the_audio_and_follow_the_words() -> None:
    result = await EspeakTTS().synthesize("Mama, see!", VoiceSettings())
    frames = result.visemes
    assert frames[0].start_ms == 0 and frames[-1].end_ms == result.duration_ms
    assert all(a.end_ms == b.start_ms for a, b in zip(frames, frames[1:], strict=False))
    shapes = [f.viseme for f in frames]
    assert shapes.index(Viseme.PP) < shapes.index(Viseme.SS)  # "mama" is said before "see"
    assert shapes.count(Viseme.PP) == 2


async def test_silent_frames_are_quiet_in_the_real_audio() -> None:
    """The mouth track comes from the engine's sample positions, not from text length."""
    result = await EspeakTTS().synthesize("One. Two. Three.", VoiceSettings())
    audio = read_wav(result.audio)
    inner = [f for f in result.visemes[1:-1] if f.end_ms - f.start_ms >= 60]
    quiet = [
        rms(audio.pcm, 22050, f.start_ms + 10, f.end_ms - 10)
        for f in inner
        if f.viseme == Viseme.SIL
    ]
    loud = [rms(audio.pcm, 22050, f.start_ms, f.end_ms) for f in inner if f.viseme != Viseme.SIL]
    assert quiet, "sentence pauses should appear as sil frames"
    assert max(quiet) < 0.1 * (sum(loud) / len(loud))


async def test_speed_stretches_audio_and_mouth_track_together() -> None:
    tts = EspeakTTS()
    normal = await tts.synthesize("The quick brown fox jumps over the lazy dog.", VoiceSettings())
    slow = await tts.synthesize(
        "The quick brown fox jumps over the lazy dog.", VoiceSettings(speed=0.6)
    )
    assert slow.duration_ms > 1.4 * normal.duration_ms
    assert slow.visemes[-1].end_ms == slow.duration_ms
    speech = [f for f in slow.visemes if f.viseme != Viseme.SIL]
    assert speech[-1].end_ms > 0.8 * slow.duration_ms


async def test_unknown_voice_falls_back_to_language_then_fails_clearly() -> None:
    tts = EspeakTTS()
    german = await tts.synthesize("Guten Tag", VoiceSettings(voice_id="nope", language="de"))
    assert german.duration_ms > 300
    with pytest.raises(ProviderBadResponse, match="no espeak-ng voice 'nope'"):
        await tts.synthesize("hi", VoiceSettings(voice_id="nope", language="xx-none"))


async def test_missing_library_names_the_debian_package() -> None:
    with pytest.raises(ProviderUnavailable, match="espeak-ng") as caught:
        await EspeakTTS(library="libespeak-ng-missing.so.9").synthesize("hi", VoiceSettings())
    assert caught.value.retryable


async def test_list_voices_offers_english_variants() -> None:
    voices = await EspeakTTS().list_voices()
    by_id = {v.voice_id: v for v in voices}
    assert by_id["en-us"].name == "English (America)"
    assert by_id["en-us"].provider == "espeak"
    assert len(voices) > 50


async def test_synthesis_runs_off_the_event_loop_and_concurrent_calls_are_safe() -> None:
    tts = EspeakTTS()
    await tts.synthesize("warm up", VoiceSettings())
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    texts = [f"Sentence number {n} is spoken now." for n in range(6)]
    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    results = await asyncio.gather(*(tts.synthesize(t, VoiceSettings()) for t in texts))
    elapsed = time.perf_counter() - started
    task.cancel()
    audio_ms = sum(r.duration_ms for r in results)
    print(
        f"\nespeak: {audio_ms} ms of audio in {elapsed * 1000:.0f} ms "
        f"({audio_ms / 1000 / elapsed:.0f}x real time), loop ticked {ticks} times"
    )
    assert ticks >= 2, "the event loop must keep running during synthesis"
    assert all(r.visemes[-1].end_ms == r.duration_ms for r in results)
    assert len({r.duration_ms for r in results}) > 1 or all(r.duration_ms > 1000 for r in results)
