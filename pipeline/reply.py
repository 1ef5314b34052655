"""One companion reply, streamed: text deltas, then per sentence emotion, visemes and audio.

    run() ─┬─ producer: LLM fragments → TagStripper → MessageDelta → SentenceSplitter
           │            each complete sentence starts its TTS task at once (bounded per reply)
           └─ consumer: awaits the sentences' TTS tasks in order → storage.put →
                        EmotionChanged (if changed) → VisemeFrames → AudioChunk

So speech of sentence 1 is synthesised while the model writes sentence 2, and audio still
leaves in sentence order. ``ReplyControl.interrupt`` (barge-in) cancels every task of the reply;
the heard text is what the listener's audio clock had reached. Provider failures end the reply
as failed (failures a stream can hit are data); the partial text is kept. How a reply ended is
the ``ReplyOutcome`` that ``run`` returns, not an event: the service publishes ReplyCompleted,
ReplyInterrupted or ReplyFailed once the message row holds the final text. Audio chunks carry
their storage key; URLs are signed where events are delivered. Storage
that refuses a chunk's audio (or a voice allowance that cannot be checked, or offline speech
too far behind: ``SpeechBusy``) does not end the reply: that chunk goes without audio and
visemes, text and emotions go on, and one ``ReplyDegraded`` says so.

All methods must be called on the event loop that runs the reply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeline.broadcast.errors import BroadcastError
from pipeline.emotions import EmotionTag, TagStripper, classify
from pipeline.errors import ProviderError
from pipeline.events import (
    AUDIO_STORAGE_FAILED,
    SPEECH_BUSY,
    VOICE_CHECK_FAILED,
    AudioChunk,
    Emotion,
    EmotionChanged,
    MessageDelta,
    ReplyDegraded,
    ReplyEvent,
    ReplyStarted,
    StorageKey,
    VisemeFrames,
)
from pipeline.llm.base import ChatMessage, LLMProvider, answering
from pipeline.sentences import Sentence, SentenceSplitter
from pipeline.storage.base import BlobStorage
from pipeline.tts.base import SpeechBusy, SpeechWorkerLost, Synthesis, TTSProvider, VoiceSettings

log = logging.getLogger(__name__)

Emit = Callable[[ReplyEvent], Awaitable[None]]
Status = Literal["complete", "interrupted", "failed"]
INTERNAL_ERROR = "INTERNAL_ERROR"
UNDELIVERED = "The reply could not be delivered; send the message again"
# The first audio chunk ends at the first clause break after this many words (pipeline.sentences):
# "Hmm," alone is a natural first breath, and the offline responder's opener then starts speaking
# after two words instead of six (bench.voice: first audio ~180 -> ~60 ms after the first delta).
FIRST_CLAUSE_WORDS = 1
_EXTENSIONS = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/ogg": "ogg"}


@dataclass(frozen=True, slots=True)
class ReplyRequest:
    messages: list[ChatMessage]
    voice: VoiceSettings
    audio_key_prefix: str
    speak: bool = True
    # Asked before each chunk of audio with the reply's total so far: may it speak that much?
    # (the person's voice minutes, shared by all their replies). Refused: the rest is text.
    voice_allowance: Callable[[int], Awaitable[bool]] | None = None


@dataclass(frozen=True, slots=True)
class StoredChunk:
    key: str
    seq: int
    start_ms: int
    duration_ms: int
    text: str
    mime_type: str


@dataclass(frozen=True, slots=True)
class ReplyTimings:
    """Milliseconds from the start of ``run``; ``None`` where the reply never got that far."""

    llm_first_token_ms: float | None = None
    first_delta_ms: float | None = None
    first_audio_ms: float | None = None
    first_viseme_ms: float | None = None
    total_ms: float | None = None


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    status: Status
    text: str
    emotions: tuple[EmotionChanged, ...] = ()
    chunks: tuple[StoredChunk, ...] = ()
    timings: ReplyTimings = field(default_factory=ReplyTimings)
    error_code: str | None = None
    error_detail: str | None = None
    retryable: bool = False


class ReplyControl:
    """Handed to whoever hears the user (barge-in); one per reply."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.heard_until_ms: int | None = None

    def interrupt(self, heard_until_ms: int) -> None:
        """Stop the reply; ``heard_until_ms`` is the listener's position in the reply's audio."""
        if not self._event.is_set():
            self.heard_until_ms = max(0, heard_until_ms)
            self._event.set()

    @property
    def interrupted(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> None:
        await self._event.wait()


def heard_text(chunks: Sequence[StoredChunk], heard_until_ms: int) -> str:
    """Text of the chunks played before ``heard_until_ms`` plus the words of the chunk then
    playing, each word counted as heard once its share of the chunk (by letters) had played."""
    parts: list[str] = []
    for chunk in sorted(chunks, key=lambda c: c.seq):
        if chunk.start_ms + chunk.duration_ms <= heard_until_ms:
            parts.append(chunk.text)
            continue
        if chunk.start_ms < heard_until_ms:
            played = (heard_until_ms - chunk.start_ms) / chunk.duration_ms
            words = chunk.text.split()
            total = sum(len(w) for w in words)
            letters, taken = 0, []
            for word in words:
                letters += len(word)
                if letters > played * total:
                    break
                taken.append(word)
            parts.extend(taken)
        break
    return " ".join(parts)


@dataclass(slots=True)
class _Item:
    sentence: Sentence
    emotion: Emotion
    intensity: float
    synthesis: asyncio.Task[Synthesis] | None


class _Stopped(Exception):
    """Raised inside the reply's tasks when a barge-in arrived before they noticed."""


class ReplyPipeline:
    def __init__(
        self,
        llm: LLMProvider,
        tts: TTSProvider,
        storage: BlobStorage,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_parallel_tts: int = 2,
        cancel_grace_s: float = 0.05,
    ) -> None:
        self.llm, self.tts, self.storage = llm, tts, storage
        self.clock = clock
        self.max_parallel_tts = max_parallel_tts
        self.cancel_grace_s = cancel_grace_s

    async def run(
        self, request: ReplyRequest, emit: Emit, control: ReplyControl | None = None
    ) -> ReplyOutcome:
        return await _Run(self, request, emit, control or ReplyControl()).run()


class _Run:
    """State of one reply; lives as long as ``ReplyPipeline.run``."""

    def __init__(
        self, pipe: ReplyPipeline, request: ReplyRequest, emit: Emit, control: ReplyControl
    ) -> None:
        self.pipe, self.request, self.emit, self.control = pipe, request, emit, control
        self.llm, self.model = answering(pipe.llm)  # once: ReplyStarted names who answers
        self.t0 = pipe.clock()
        self.marks: dict[str, float] = {}
        self.text: list[str] = []
        self.delta_seq = 0
        self.stripper = TagStripper()
        self.splitter = SentenceSplitter(first_clause_words=FIRST_CLAUSE_WORDS)
        self.tags: list[EmotionTag] = []
        self.last_emotion: Emotion | None = None  # of the previous sentence, producer side
        self.queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self.tts_slots = asyncio.Semaphore(pipe.max_parallel_tts)
        self.synth_tasks: set[asyncio.Task[Synthesis]] = set()
        self.chunks: list[StoredChunk] = []
        self.emotions: list[EmotionChanged] = []
        self.audio_ms = 0
        self.degraded = False  # some audio could not be stored: the reply went on as text
        self.voice_spent = False  # out of voice minutes: the rest of the reply is text
        self.speech_busy = False  # the server's speech is too far behind: the rest is text

    async def send(self, event: ReplyEvent) -> None:
        """Emit from the reply's tasks; nothing more leaves once a barge-in has been asked for,
        even if a task has not yet reached an await where its cancellation lands."""
        if self.control.interrupted:
            raise _Stopped
        await self.emit(event)

    def mark(self, name: str) -> None:
        self.marks.setdefault(name, round((self.pipe.clock() - self.t0) * 1000, 1))

    async def run(self) -> ReplyOutcome:
        await self.emit(ReplyStarted(self.model.model, self.model.fallback))
        work = {asyncio.create_task(self.produce()), asyncio.create_task(self.consume())}
        stop = asyncio.create_task(self.control.wait())
        error: BaseException | None = None
        try:
            while work and error is None and not stop.done():
                done, _ = await asyncio.wait(work | {stop}, return_when=asyncio.FIRST_COMPLETED)
                for task in done & work:
                    error = error or (None if task.cancelled() else task.exception())
                work -= done
        finally:
            await self.cancel(work | {stop} | set(self.synth_tasks))
        if self.control.interrupted:
            return await self.interrupted()
        if error is not None:
            return await self.failed(error)
        text = "".join(self.text)
        return self.outcome("complete", text)

    async def cancel(self, tasks: set[asyncio.Task[Any]]) -> None:
        """Cancel and give the tasks a moment to close streams; a task that ignores cancellation
        must not hold up the reply's last event."""
        pending = {t for t in tasks if not t.done()}
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=self.pipe.cancel_grace_s)
        for task in tasks:
            task.add_done_callback(_retrieve)

    async def interrupted(self) -> ReplyOutcome:
        heard_until = self.control.heard_until_ms or 0
        if self.request.speak and not self.degraded:
            heard = heard_text(self.chunks, heard_until)
            self.emotions = [e for e in self.emotions if e.at_ms <= heard_until]
        else:  # a text-only reply was read, not heard: what was shown stands
            heard = "".join(self.text)
        return self.outcome("interrupted", heard)

    async def failed(self, error: BaseException) -> ReplyOutcome:
        retryable = False
        if isinstance(error, ProviderError):
            code, detail, retryable = error.code, error.detail, error.retryable
        elif isinstance(error, BroadcastError):  # the replay log unreachable: nothing is heard
            log.warning("reply failed: %s", error)
            code, detail, retryable = error.code, UNDELIVERED, error.retryable
        else:
            log.error("reply failed", exc_info=error)
            code, detail = INTERNAL_ERROR, "the reply could not be completed"
        return self.outcome("failed", "".join(self.text), code, detail, retryable)

    def outcome(
        self,
        status: Status,
        text: str,
        code: str | None = None,
        detail: str | None = None,
        retryable: bool = False,
    ) -> ReplyOutcome:
        self.mark("total_ms")
        timings = ReplyTimings(**self.marks)
        return ReplyOutcome(
            status, text, tuple(self.emotions), tuple(self.chunks), timings, code, detail, retryable
        )

    # -- producer: text --------------------------------------------------------------------

    async def produce(self) -> None:
        fragments = self.llm.stream(self.request.messages)
        try:
            async for fragment in fragments:
                if fragment:
                    self.mark("llm_first_token_ms")
                    await self.on_text(*self.stripper.feed(fragment))
            await self.on_text(*self.stripper.finish())
            for sentence in self.splitter.finish():
                self.enqueue(sentence)
            self.queue.put_nowait(None)
        finally:
            await _aclose(fragments)

    async def on_text(self, text: str, tags: list[EmotionTag]) -> None:
        self.tags.extend(tags)
        if not text:
            return
        # Sent first: a barge-in that stops this delta (``_Stopped``) must not count its text
        # as shown (a text-only reply keeps exactly what was shown).
        await self.send(MessageDelta(self.delta_seq, text))
        self.text.append(text)
        self.mark("first_delta_ms")
        self.delta_seq += 1
        for sentence in self.splitter.feed(text):
            self.enqueue(sentence)

    def enqueue(self, sentence: Sentence) -> None:
        emotion, intensity = self.emotion_of(sentence)
        task = None
        if (
            self.request.speak
            and not self.voice_spent
            and not self.speech_busy
            and any(ch.isalnum() for ch in sentence.text)
        ):
            task = asyncio.create_task(self.synthesize(sentence.text))
            self.synth_tasks.add(task)
        self.queue.put_nowait(_Item(sentence, emotion, intensity, task))

    def emotion_of(self, sentence: Sentence) -> tuple[Emotion, float]:
        """The sentence's last tag; else the lexicon; a sentence the lexicon finds neutral keeps
        the previous feeling, since models tag once and let it carry."""
        tags = [t for t in self.tags if sentence.start <= t.offset < sentence.end]
        if tags:
            emotion, intensity = tags[-1].emotion, tags[-1].intensity
        else:
            emotion, intensity = classify(sentence.text)
            if emotion is Emotion.neutral and self.last_emotion is not None:
                emotion = self.last_emotion
        self.last_emotion = emotion
        return emotion, intensity

    async def synthesize(self, text: str) -> Synthesis:
        async with self.tts_slots:
            return await self.pipe.tts.synthesize(text, self.request.voice)

    async def may_speak(self, duration_ms: int) -> bool:
        allowance = self.request.voice_allowance
        if allowance is None:
            return True
        try:
            allowed = await allowance(self.audio_ms + duration_ms)
        except Exception as e:  # noqa: BLE001 - e.g. the database away: no unrecorded audio
            log.warning("checking the voice allowance failed: %r", e)
            await self.degrade(VOICE_CHECK_FAILED, "voice minutes could not be checked")
            return False
        if allowed:
            return True
        self.voice_spent = True
        return False

    # -- consumer: audio, in sentence order ---------------------------------------------------

    async def consume(self) -> None:
        while (item := await self.queue.get()) is not None:
            if item.synthesis is None or self.voice_spent or self.speech_busy:
                if item.synthesis is not None:
                    item.synthesis.cancel()
                await self.emotion_changed(item)
                continue
            synthesis = await self.speech_of(item.synthesis)
            if synthesis is None or not await self.may_speak(synthesis.duration_ms):
                await self.emotion_changed(item)
                continue
            seq = len(self.chunks)
            ext = _EXTENSIONS.get(synthesis.mime_type, "bin")
            key = f"{self.request.audio_key_prefix.rstrip('/')}/{seq}.{ext}"
            if not await self.store(key, synthesis):
                await self.emotion_changed(item)
                continue
            await self.emotion_changed(item)
            await self.send(VisemeFrames(seq, synthesis.visemes))
            self.mark("first_viseme_ms")
            chunk = StoredChunk(
                key,
                seq,
                self.audio_ms,
                synthesis.duration_ms,
                item.sentence.text,
                synthesis.mime_type,
            )
            await self.send(
                AudioChunk(
                    seq,
                    StorageKey(key),
                    chunk.mime_type,
                    chunk.start_ms,
                    chunk.duration_ms,
                    chunk.text,
                )
            )
            self.mark("first_audio_ms")
            self.chunks.append(chunk)
            self.audio_ms += synthesis.duration_ms

    async def speech_of(self, task: asyncio.Task[Synthesis]) -> Synthesis | None:
        """The sentence's audio; None when the server's own speech could not make it in time
        (busy: the rest of the reply is text; its worker stopped: this sentence is)."""
        try:
            return await task
        except SpeechBusy:
            self.speech_busy = True
            await self.degrade(SPEECH_BUSY, "speech synthesis is too far behind")
        except SpeechWorkerLost as e:
            log.warning("reply speech lost: %s", e)
            await self.degrade(SPEECH_BUSY, "speech synthesis stopped")
        return None

    async def store(self, key: str, synthesis: Synthesis) -> bool:
        """Store a chunk's audio; on failure the reply goes on as text (said once)."""
        try:
            await self.pipe.storage.put(key, synthesis.audio, synthesis.mime_type)
        except Exception as e:  # noqa: BLE001 - any storage failure: read-only, full, away
            log.warning("storing reply audio %s failed: %r", key, e)
            await self.degrade(AUDIO_STORAGE_FAILED, "audio could not be stored")
            return False
        return True

    async def degrade(self, reason: str, why: str) -> None:
        """This chunk goes without audio; the first time, the reply says so."""
        if not self.degraded:
            self.degraded = True
            await self.send(ReplyDegraded(reason, f"{why}; the reply goes on as text"))

    async def emotion_changed(self, item: _Item) -> None:
        if self.emotions and self.emotions[-1].emotion is item.emotion:
            return
        event = EmotionChanged(item.emotion, item.intensity, self.audio_ms)
        await self.send(event)
        self.emotions.append(event)


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark a cancelled task's outcome as seen, so asyncio does not log it as lost."""
    if not task.cancelled():
        task.exception()


async def _aclose(iterator: AsyncIterator[str]) -> None:
    """Close the provider's generator now (its ``finally`` closes the HTTP stream), not at GC."""
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()
