"""The reply a user sees and hears: order of events, speech overlapping generation, barge-in."""

from __future__ import annotations

import asyncio
import io
import time
import wave
from pathlib import Path

import pytest

from pipeline.errors import ProviderRateLimited, ProviderUnavailable
from pipeline.events import (
    AUDIO_STORAGE_FAILED,
    VOICE_CHECK_FAILED,
    AudioChunk,
    Emotion,
    EmotionChanged,
    ReplyDegraded,
    ReplyEvent,
    ReplyStarted,
    VisemeFrames,
)
from pipeline.llm.base import ChatMessage
from pipeline.reply import (
    INTERNAL_ERROR,
    ReplyControl,
    ReplyPipeline,
    ReplyRequest,
    StoredChunk,
    heard_text,
)
from pipeline.storage.local import LocalBlobStorage
from pipeline.tts.base import Synthesis, VoiceSettings
from tests.pipeline.fakes import FakeTTS, MemoryStorage, Recorder, ScriptedLLM

SECRET = "test-secret-of-at-least-16-bytes"
MESSAGES = [ChatMessage("system", "You are Aiko."), ChatMessage("user", "Hi!")]
PREFIX = "users/1/audio/m1"


@pytest.fixture
def storage(tmp_path: Path) -> LocalBlobStorage:
    return LocalBlobStorage(tmp_path / "blobs", SECRET)


def request(speak: bool = True) -> ReplyRequest:
    return ReplyRequest(MESSAGES, VoiceSettings(), PREFIX, speak=speak)


def words(text: str) -> list[str]:
    """Split into word fragments the way models stream ("Hello", " there")."""
    parts = text.split(" ")
    return [parts[0]] + [" " + p for p in parts[1:]]


async def test_the_first_clause_is_spoken_before_the_rest_of_its_sentence(
    storage: LocalBlobStorage,
) -> None:
    llm, rec = ScriptedLLM(words("Hmm, let me think about that, Ada. Cats purr.")), Recorder()
    await ReplyPipeline(llm, FakeTTS(), storage).run(request(), rec)
    assert [a.text for a in rec.audio] == ["Hmm,", "let me think about that, Ada.", "Cats purr."]


class StopAfterAudio(Recorder):
    """Interrupts the reply when audio chunk ``seq`` reaches the client."""

    def __init__(self, control: ReplyControl, seq: int, heard_ms: int) -> None:
        super().__init__()
        self.control, self.seq, self.heard_ms = control, seq, heard_ms
        self.interrupted_at: float | None = None

    async def __call__(self, event: ReplyEvent) -> None:
        await super().__call__(event)
        if isinstance(event, AudioChunk) and event.seq == self.seq:
            self.interrupted_at = time.monotonic()
            self.control.interrupt(self.heard_ms)


async def test_reply_streams_text_then_emotion_visemes_and_audio_per_sentence(
    storage: LocalBlobStorage,
) -> None:
    fragments = ["[jo", "y] Hello", " there Dr.", " Smith! I am", " so sad", " today. "]
    fragments += ["[surp", "rise:0.9] Wow,", " 3.5 cats!"]
    llm, tts, rec = ScriptedLLM(fragments), FakeTTS(), Recorder()

    outcome = await ReplyPipeline(llm, tts, storage).run(request(), rec)

    expected = "Hello there Dr. Smith! I am so sad today. Wow, 3.5 cats!"
    assert isinstance(rec.events[0], ReplyStarted)
    assert "".join(d.text for d in rec.deltas) == expected
    assert [d.seq for d in rec.deltas] == list(range(len(rec.deltas)))
    assert [a.text for a in rec.audio] == [
        "Hello there Dr. Smith!",
        "I am so sad today.",
        "Wow, 3.5 cats!",  # only the first sentence may be cut at a comma
    ]
    assert [a.seq for a in rec.audio] == [0, 1, 2]
    assert [(e.emotion, e.intensity) for e in rec.emotions] == [
        (Emotion.joy, 0.7),
        (Emotion.sadness, 0.5),  # lexicon: "sad", intensified by "so"
        (Emotion.surprise, 0.9),
    ]
    for chunk, emotion in zip(rec.audio, rec.emotions, strict=True):
        at = rec.events.index(chunk)
        visemes = [
            i
            for i, e in enumerate(rec.events)
            if isinstance(e, VisemeFrames) and e.audio_seq == chunk.seq
        ]
        assert visemes and visemes[0] < at and rec.events.index(emotion) < at
        assert emotion.at_ms == chunk.start_ms
        assert chunk.duration_ms == len(chunk.text) * tts.ms_per_char
    starts = [a.start_ms for a in rec.audio]
    assert starts == [
        0,
        rec.audio[0].duration_ms,
        rec.audio[0].duration_ms + rec.audio[1].duration_ms,
    ]

    assert outcome.status == "complete" and outcome.text == expected
    assert [c.key for c in outcome.chunks] == [f"{PREFIX}/{i}.wav" for i in range(3)]
    assert await storage.list_prefix(PREFIX) == [f"{PREFIX}/{i}.wav" for i in range(3)]
    # Chunks carry storage keys: URLs are signed where the events are delivered.
    assert [a.key for a in rec.audio] == [f"{PREFIX}/{i}.wav" for i in range(3)]
    for chunk in rec.audio:
        with wave.open(io.BytesIO(await storage.get(chunk.key))) as w:
            assert w.getnframes() * 1000 // w.getframerate() == chunk.duration_ms
    timings = outcome.timings
    assert None not in (timings.llm_first_token_ms, timings.first_delta_ms, timings.first_audio_ms)
    assert timings.first_viseme_ms is not None and timings.total_ms is not None
    assert timings.first_delta_ms <= timings.first_viseme_ms <= timings.first_audio_ms  # type: ignore[operator]


async def test_speech_starts_while_the_model_is_still_writing(storage: LocalBlobStorage) -> None:
    text = "First sentence is here. Second one follows now. Third one ends the reply."
    llm = ScriptedLLM(words(text), delay_s=0.04)
    tts, rec = FakeTTS(latency_s=0.03), Recorder()
    start = time.monotonic()

    outcome = await ReplyPipeline(llm, tts, storage).run(request(), rec)

    first_audio = rec.time_of_first(AudioChunk)
    llm_done = llm.yielded_at[-1]
    print(
        f"\nfirst TTS call at {(tts.calls[0].started_at - start) * 1000:.0f} ms, "
        f"first audio at {(first_audio - start) * 1000:.0f} ms, "
        f"LLM last token at {(llm_done - start) * 1000:.0f} ms "
        f"(outcome first_audio_ms={outcome.timings.first_audio_ms})"
    )
    assert tts.calls[0].started_at < llm.yielded_at[5]  # "First sentence is here." + next word
    assert first_audio < llm_done
    assert len(rec.audio) == 3


async def test_audio_keeps_sentence_order_when_a_later_sentence_synthesises_faster(
    storage: LocalBlobStorage,
) -> None:
    long, short = "This first sentence is much longer than the next one.", "Short."
    tts = FakeTTS(latency_s=0.0, latency_per_char_s=0.004)
    rec = Recorder()

    await ReplyPipeline(ScriptedLLM([long + " " + short]), tts, storage).run(request(), rec)

    assert tts.calls[1].ended_at is not None and tts.calls[0].ended_at is not None
    assert tts.calls[1].ended_at < tts.calls[0].ended_at  # the second really finished first
    assert [a.text for a in rec.audio] == [long, short]


async def test_emotion_is_sent_only_when_it_changes(storage: LocalBlobStorage) -> None:
    llm = ScriptedLLM(["[joy] Great news. It is sunny. [joy] So happy!"])
    rec = Recorder()

    await ReplyPipeline(llm, FakeTTS(), storage).run(request(), rec)

    assert len(rec.audio) == 3
    assert rec.emotions == [EmotionChanged(Emotion.joy, 0.7, 0)]


async def test_barge_in_stops_model_and_speech_within_100ms_and_keeps_what_was_heard(
    storage: LocalBlobStorage,
) -> None:
    first, second = "One two three.", "Alpha beta gamma delta."
    rest = " ".join(f"Sentence number {i} keeps the model busy." for i in range(40))
    llm = ScriptedLLM(words(f"{first} {second} {rest}"), delay_s=0.005)
    tts = FakeTTS(latency_s=0.08, ms_per_char=50)  # slower than the model: synthesis in flight
    control = ReplyControl()
    d0, d1 = len(first) * 50, len(second) * 50
    rec = StopAfterAudio(control, seq=1, heard_ms=d0 + d1 // 2)

    outcome = await ReplyPipeline(llm, tts, storage).run(request(), rec, control)
    ended = time.monotonic()

    assert rec.interrupted_at is not None and llm.stopped_at is not None
    latency_ms = (ended - rec.interrupted_at) * 1000
    llm_stop_ms = (llm.stopped_at - rec.interrupted_at) * 1000
    in_flight = [c for c in tts.calls if c.cancelled]
    print(f"\ninterrupt -> reply ended {latency_ms:.1f} ms, LLM stopped {llm_stop_ms:.1f} ms")
    assert latency_ms < 100 and llm_stop_ms < 100
    assert llm.cancelled and not llm.finished
    assert in_flight and all(c.ended_at is not None and c.ended_at < ended for c in in_flight)
    # "Alpha"(5) + "beta"(4) = 9 of 20 letters were heard at 50 %; "gamma" ends at 70 %.
    assert outcome.status == "interrupted" and outcome.text == "One two three. Alpha beta"
    assert [c.seq for c in outcome.chunks] == [0, 1]


async def test_barge_in_before_any_audio_hears_nothing(storage: LocalBlobStorage) -> None:
    llm = ScriptedLLM(words("Hello there, this is a long first sentence."), delay_s=0.05)
    control, rec = ReplyControl(), Recorder()
    task = asyncio.create_task(ReplyPipeline(llm, FakeTTS(), storage).run(request(), rec, control))
    await asyncio.sleep(0.12)

    asked = time.monotonic()
    control.interrupt(5000)
    outcome = await asyncio.wait_for(task, 0.1)

    latency_ms = (time.monotonic() - asked) * 1000
    print(f"\ninterrupt from another task -> reply ended {latency_ms:.1f} ms")
    assert latency_ms < 100

    assert rec.deltas  # text had started
    assert outcome.status == "interrupted" and outcome.text == "" and outcome.chunks == ()
    assert llm.cancelled


async def test_model_failure_ends_the_reply_with_its_code_and_keeps_partial_text(
    storage: LocalBlobStorage,
) -> None:
    error = ProviderRateLimited("scripted", "slow down")
    llm = ScriptedLLM(["Hello", " there.", " And", " then"], fail_after=3, error=error)
    rec = Recorder()

    outcome = await ReplyPipeline(llm, FakeTTS(), storage).run(request(), rec)

    assert outcome.status == "failed" and outcome.error_code == "PROVIDER_RATE_LIMITED"
    assert outcome.error_detail == "slow down" and outcome.retryable
    assert outcome.text == "Hello there. And"


async def test_speech_failure_ends_the_reply_and_stops_the_model(storage: LocalBlobStorage) -> None:
    tts = FakeTTS(fail_on="boom", error=ProviderUnavailable("fake", "speech engine down"))
    text = "Fine first. Then boom here. " + " ".join(["more words"] * 50)
    llm = ScriptedLLM(words(text), delay_s=0.01)
    rec = Recorder()

    outcome = await ReplyPipeline(llm, tts, storage).run(request(), rec)

    assert (outcome.error_code, outcome.error_detail, outcome.retryable) == (
        "PROVIDER_UNAVAILABLE",
        "speech engine down",
        True,
    )
    assert [a.text for a in rec.audio] == ["Fine first."]
    assert outcome.status == "failed" and llm.cancelled


async def test_unexpected_error_is_reported_without_internals(storage: LocalBlobStorage) -> None:
    class BrokenTTS(FakeTTS):
        async def synthesize(self, text: str, voice: VoiceSettings) -> Synthesis:
            raise RuntimeError("secret internals")

    rec = Recorder()
    outcome = await ReplyPipeline(ScriptedLLM(["Hi there."]), BrokenTTS(), storage).run(
        request(), rec
    )

    assert outcome.status == "failed" and outcome.error_code == INTERNAL_ERROR
    assert "secret" not in (outcome.error_detail or "")


async def test_text_only_reply_skips_speech(storage: LocalBlobStorage) -> None:
    tts, rec = FakeTTS(), Recorder()

    outcome = await ReplyPipeline(ScriptedLLM(["[joy] Hi! ", "Bye."]), tts, storage).run(
        request(speak=False), rec
    )

    assert outcome.status == "complete" and outcome.text == "Hi! Bye."
    assert not rec.audio and not rec.visemes and not tts.calls
    assert rec.emotions == [EmotionChanged(Emotion.joy, 0.7, 0)]
    assert outcome.timings.first_audio_ms is None and outcome.chunks == ()
    assert await storage.list_prefix(PREFIX) == []


async def test_storage_that_refuses_audio_degrades_the_reply_to_text(tmp_path: Path) -> None:
    blocker = tmp_path / "storage-is-a-file"  # every write fails, even as root
    blocker.write_text("not a directory")
    storage = LocalBlobStorage(blocker, SECRET)
    llm, tts, rec = (
        ScriptedLLM(words("[joy] Hello there! I am sad now. Bye.")),
        FakeTTS(),
        Recorder(),
    )

    outcome = await ReplyPipeline(llm, tts, storage).run(request(), rec)

    assert rec.of(ReplyDegraded) == [
        ReplyDegraded(AUDIO_STORAGE_FAILED, "audio could not be stored; the reply goes on as text")
    ]
    assert not rec.audio and not rec.visemes
    assert [e.emotion for e in rec.emotions] == [Emotion.joy, Emotion.sadness]
    assert outcome.text == "Hello there! I am sad now. Bye."
    assert outcome.status == "complete" and outcome.chunks == ()


async def test_voice_minutes_that_cannot_be_checked_degrade_the_reply_to_text() -> None:
    async def database_away(total_ms: int) -> bool:
        raise ConnectionRefusedError(111, "Connection refused")

    rec = Recorder()
    speaking = ReplyRequest(MESSAGES, VoiceSettings(), PREFIX, voice_allowance=database_away)
    outcome = await ReplyPipeline(
        ScriptedLLM(words("Hello there! Bye.")), FakeTTS(), MemoryStorage()
    ).run(speaking, rec)

    degraded = [e.reason for e in rec.events if isinstance(e, ReplyDegraded)]
    assert degraded == [VOICE_CHECK_FAILED]
    assert not rec.audio and outcome.text == "Hello there! Bye."
    assert outcome.status == "complete"


async def test_a_degraded_reply_interrupted_keeps_the_text_shown() -> None:
    class FailingStorage(MemoryStorage):
        async def put(self, key: str, data: bytes, mime_type: str) -> None:
            raise OSError(30, "Read-only file system")

    control, rec = ReplyControl(), Recorder()
    llm = ScriptedLLM(words("First part. " + "more words " * 40), delay_s=0.01)

    async def stop_after_degraded(event: ReplyEvent) -> None:
        await rec(event)
        if isinstance(event, ReplyDegraded):
            control.interrupt(0)

    outcome = await ReplyPipeline(llm, FakeTTS(), FailingStorage()).run(
        request(), stop_after_degraded, control
    )

    assert outcome.status == "interrupted" and outcome.text.startswith("First part.")


def test_heard_text_counts_whole_chunks_and_the_words_played_of_the_current_one() -> None:
    chunks = [
        StoredChunk("k/0.wav", 0, 0, 1000, "One two.", "audio/wav"),
        StoredChunk("k/1.wav", 1, 1000, 1000, "Three four five six.", "audio/wav"),
    ]
    assert heard_text(chunks, 0) == ""
    assert heard_text(chunks, 999) == "One"  # "One" is 3 of 7 letters
    assert heard_text(chunks, 1000) == "One two."
    assert heard_text(chunks, 1500) == "One two. Three"  # 8.5 of 17 letters: "four" ends at 9
    assert heard_text(chunks, 1530) == "One two. Three four"
    assert heard_text(chunks, 5000) == "One two. Three four five six."


async def test_nothing_is_sent_after_a_barge_in_even_when_no_task_yields() -> None:
    control = ReplyControl()
    rec = StopAfterAudio(control, seq=0, heard_ms=100)
    # Instant speech and storage: after chunk 0, chunk 1 is ready without a single await pausing.
    tts = FakeTTS(latency_s=0.0)

    outcome = await ReplyPipeline(ScriptedLLM(["One. Two. Three."]), tts, MemoryStorage()).run(
        request(), rec, control
    )

    assert [a.seq for a in rec.audio] == [0]
    assert outcome.status == "interrupted"
    assert outcome.text == ""  # 100 ms of "One." (200 ms): no whole word yet


async def test_interrupting_a_text_only_reply_keeps_the_text_already_shown(
    storage: LocalBlobStorage,
) -> None:
    llm = ScriptedLLM(words("One two three four five six seven eight nine ten."), delay_s=0.02)
    control, rec = ReplyControl(), Recorder()
    task = asyncio.create_task(
        ReplyPipeline(llm, FakeTTS(), storage).run(request(speak=False), rec, control)
    )
    await asyncio.sleep(0.07)

    control.interrupt(0)
    outcome = await task

    shown = "".join(d.text for d in rec.deltas)
    assert shown.startswith("One two") and not shown.endswith("ten.")
    assert outcome.status == "interrupted" and outcome.text == shown
