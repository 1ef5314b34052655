"""One voice session: the chunks a client sends, in order, through the VAD, and what follows.

The resolver checks a chunk and queues it (``accept``, no awaiting: chunks pipelined on one
socket keep their order); the session's own task takes them one by one, so events come out in
stream order. Speech-to-text runs in the STT provider's workers (never on the event loop's
thread), as background jobs of this session:

    chunk -> VAD -> SpeechStart: VoiceSpeechStarted
                 -> speaking over a playing reply for barge_in_ms: interruptReply's path
                 -> every partial_interval_ms of speech: a partial transcript (one at a time)
                 -> a pause of early_final_ms: the final transcribed early; still in that
                    pause when it is done, the reply's text is begun (a draft)
                 -> TurnEnd: VoiceTurnEnded, then (in turn order) the final transcript,
                    sent as the person's message: the reply starts at once (reading the
                    draft if the turn ended in its pause; speech going on cancels it)

A turn that began while the device played a reply and stayed shorter than ``barge_in_ms`` is a
backchannel ("mm-hm", a cough): it neither interrupts nor becomes a message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pipeline import events as ev
from pipeline.audio import pcm16_to_wav
from pipeline.llm.draft import Draft
from pipeline.stt.base import Transcript
from pipeline.vad import SAMPLE_RATE, EnergyVad, SpeechStart, TurnEnd
from services import tracing, voice_input
from services.errors import AppError, NotFound, RateLimited
from services.identity import Viewer
from services.voice_sessions.chunks import (
    BYTES_PER_MS,
    SEQ_GAP,
    SEQ_REPEATED,
    ChunkRefused,
    Playback,
)
from services.voice_sessions.config import SessionConfig, SessionDeps
from services.voice_sessions.outcomes import NO_MESSAGE, Outcomes

log = logging.getLogger("holomate.voice")

# Partial transcripts only while one takes at most this share of the partial interval: each
# job holds an STT worker the final may need (Whisper base on a busy 2-core machine took 1.5-3 s
# for 2 s of speech, so partials there would delay every final by a whole decode).
KEEPING_UP = 0.5
REORDER_WINDOW = 8  # chunks that may arrive ahead of a missing one (pipelined operations)


@dataclass(frozen=True, slots=True)
class _Chunk:
    pcm: bytes
    playing: Playback | None


@dataclass(slots=True)
class _Turn:
    number: int
    over_reply: bool  # began while the device played a reply
    barged: bool = False
    partial_busy: bool = False
    last_partial_ms: int = 0
    final_sent: bool = False  # a partial that comes back later is not shown
    early: asyncio.Task[Transcript] | None = None  # started in a pause (early_final_ms)
    early_through_ms: int = -1  # the last voiced audio it covers
    early_start_ms: int = 0
    early_began: float = 0.0
    drafting: asyncio.Task[Draft | None] | None = None  # the reply begun in the early's pause


class VoiceSession:
    def __init__(
        self,
        session_id: str,
        viewer: Viewer,
        conversation_id: int,
        config: SessionConfig,
        deps: SessionDeps,
        on_closed: Callable[[VoiceSession], Awaitable[None]],
    ) -> None:
        self.id = session_id
        self.viewer = viewer
        self.conversation_id = conversation_id
        self.config = config
        self.deps = deps
        self._on_closed = on_closed
        self._outcomes = Outcomes(session_id, viewer, conversation_id, deps, self.end)
        self._vad = EnergyVad(config.vad)
        self._queue: asyncio.Queue[_Chunk | None] = asyncio.Queue(config.queue_chunks)
        self._next_seq = 0
        self._held: dict[int, _Chunk] = {}
        self._started = time.monotonic()
        self._received_ms = 0.0
        self._audio = bytearray()  # the stream from _audio_ms on: the open turn and pre-roll
        self._audio_ms = 0
        self._playing: Playback | None = None
        self._turn: _Turn | None = None
        self._turns = 0
        self._interrupted: set[int] = set()
        self._jobs: set[asyncio.Task[None]] = set()
        self._drafts: set[Draft] = set()  # begun and not yet sent or dropped
        self._finals: asyncio.Task[None] | None = None  # the last turn's final, awaited in order
        self._closing: tuple[str, str] | None = None
        self._silent = False  # the person was erased: nothing more of theirs is published
        self._cancelled = False
        self.closed = False
        self.task = asyncio.create_task(self._run(), name=f"voice:{session_id}")

    # ---- in the resolver: cheap checks, then queued ------------------------------------

    def accept(self, seq: int, pcm: bytes, playing: Playback | None) -> int:
        """Queue one checked chunk; returns the audio received so far, in ms."""
        if self._closing is not None:
            raise NotFound("Voice session")  # ending: what comes after is not heard
        if seq < self._next_seq or seq in self._held:
            raise ChunkRefused(f"Chunk {seq} was already received", "seq", SEQ_REPEATED)
        if seq >= self._next_seq + REORDER_WINDOW:
            raise ChunkRefused(
                f"Chunk {seq} is too far ahead: {self._next_seq} is the next expected",
                "seq",
                SEQ_GAP,
            )
        chunk_ms = len(pcm) / BYTES_PER_MS
        elapsed_ms = (time.monotonic() - self._started) * 1000
        if self._received_ms + chunk_ms > elapsed_ms + self.config.burst_ms:
            raise RateLimited("Audio is arriving faster than real time; slow down", 1)
        if self._queue.full():
            raise RateLimited("The server is behind on this session's audio", 1)
        self._received_ms += chunk_ms
        self._held[seq] = _Chunk(pcm, playing)
        while self._next_seq in self._held:
            self._queue.put_nowait(self._held.pop(self._next_seq))
            self._next_seq += 1
        return round(self._received_ms)

    def end(self, reason: str = "ENDED", detail: str = "") -> None:
        """Close after the queued audio (an open turn ends there)."""
        if self._closing is None:
            self._closing = (reason, detail)
            try:
                self._queue.put_nowait(None)
            except asyncio.QueueFull:
                self._cancel()  # nothing queued is worth waiting for now

    def cut(self, reason: str, detail: str = "") -> None:
        """Close now, without transcribing what is queued or open (its token stopped counting:
        a device unpaired, a logout); the closing says why."""
        self._closing = self._closing or (reason, detail)
        self._cancel()

    def drop(self) -> None:
        """Stop now, turn in progress and all, publishing nothing more (account erased)."""
        self._silent = True
        self._cancel()

    @property
    def erased(self) -> bool:
        return self._silent

    async def settled(self) -> None:
        """Once closed: its background jobs (partials, finals) have stopped, published or not."""
        await asyncio.gather(*self._jobs, return_exceptions=True)

    def _cancel(self) -> None:
        """Once: an ending is heard twice (here, then from the hub), and a second cancel would
        cut short the closing itself (releasing its place, publishing why)."""
        if not self._cancelled:
            self._cancelled = True
            self.task.cancel()

    # ---- the session's task ----------------------------------------------------------

    async def _run(self) -> None:
        reason, detail = "SERVER_STOPPING", ""
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(self._queue.get(), self.config.idle_timeout_s)
                except TimeoutError:
                    self._closing = self._closing or (
                        "IDLE",
                        f"no audio for {self.config.idle_timeout_s:g} s",
                    )
                    chunk = None
                if chunk is None:
                    end = self._vad.flush()
                    if end is not None:
                        await self._turn_ended(end)
                    break
                await self._process(chunk)
            reason, detail = self._closing or ("ENDED", "")
            if self._finals is not None:
                await asyncio.shield(self._finals)
        except asyncio.CancelledError:
            # Ours (cut, drop, a server stopping): handled here, so withdrawn, or every await
            # of the closing below would raise it again (the hub re-raises pending cancels).
            self.task.uncancel()
            reason, detail = self._closing or ("SERVER_STOPPING", "")
        finally:
            self.closed = True
            for job in list(self._jobs):
                job.cancel()
            if self._turn is not None:
                self._drop_draft(self._turn)
            for draft in self._drafts:
                draft.cancel()
            try:  # its place under the person's limit frees before the closing is told
                await self._on_closed(self)
            except Exception:
                log.exception("voice session %s: closing it failed", self.id)
            if not self._silent:
                await self._publish_closed(reason, detail)

    async def _publish_closed(self, reason: str, detail: str) -> None:
        try:
            await self._publish(ev.VoiceSessionClosed(self._author, self.id, reason, detail))
        except Exception:
            log.warning("voice session %s: its closing was not published", self.id)

    async def _process(self, chunk: _Chunk) -> None:
        self._playing = chunk.playing
        self._audio += chunk.pcm
        for event in self._vad.feed(chunk.pcm):
            if isinstance(event, SpeechStart):
                self._turns += 1
                self._turn = _Turn(self._turns, over_reply=self._playing is not None)
                await self._publish(ev.VoiceSpeechStarted(self._author, self.id, event.at_ms))
            else:
                await self._turn_ended(event)
        turn = self._turn
        if turn is not None and self._vad.last_voiced_ms > turn.early_through_ms:
            self._drop_draft(turn)  # the person went on: what the pause heard is not the turn
        if turn is not None and self._vad.speaking:
            self._maybe_barge_in(turn)
            self._maybe_early_final(turn)
            self._maybe_partial(turn)
            start = self._vad.start_ms or 0
            if self._vad.position_ms - start >= self.config.max_turn_ms:
                end = self._vad.flush()
                if end is not None:
                    await self._turn_ended(end)
        if self._vad.start_ms is None:  # idle: keep only the pre-roll
            self._trim(self._vad.position_ms - self.config.vad.pre_roll_ms)

    def _maybe_barge_in(self, turn: _Turn) -> None:
        playing = self._playing
        if (
            playing is None
            or turn.barged
            or self._vad.voiced_ms < self.config.barge_in_ms
            or playing.message_id in self._interrupted
        ):
            return
        turn.barged = True
        self._interrupted.add(playing.message_id)
        self._spawn(self._interrupt(playing))

    async def _interrupt(self, playing: Playback) -> None:
        try:
            await self.deps.replies.interrupt(
                self.viewer, playing.message_id, playing.heard_until_ms
            )
        except AppError as e:  # not theirs, not a reply, gone: nothing to stop
            log.info("voice session %s: barge-in refused: %s %s", self.id, e.code, e.message)

    def _maybe_partial(self, turn: _Turn) -> None:
        interval = self.config.partial_interval_ms
        position = self._vad.position_ms
        if not interval or turn.partial_busy or position - turn.last_partial_ms < interval:
            return
        if turn.early is not None and not turn.early.done():
            return  # one job at a time: the early final shows as a partial if speech goes on
        pace = self.deps.pace.ms
        if pace is not None and pace > interval * KEEPING_UP:
            return  # STT cannot keep up (a slow engine, a busy machine): the final comes first
        start = self._vad.start_ms or 0
        if position - start < interval:
            return
        turn.partial_busy = True
        turn.last_partial_ms = position
        self._spawn(self._partial(turn, self._slice(start, position), position))

    async def _partial(self, turn: _Turn, pcm: bytes, through_ms: int) -> None:
        began = time.monotonic()
        try:
            transcript = await self.deps.stt.transcribe(pcm16_to_wav(pcm, SAMPLE_RATE), "audio/wav")
            self._timed(began)
        except Exception as e:  # busy or failed: the final transcript still comes
            log.info("voice session %s: partial transcript skipped: %s", self.id, e)
            return
        finally:
            turn.partial_busy = False
        text = transcript.text.strip()
        # Also after the turn ended: with one STT worker the final waits for this job, so
        # what was said so far still comes before the final transcript.
        if text and not turn.final_sent:
            await self._publish(ev.VoicePartialTranscript(self._author, self.id, text, through_ms))

    def _maybe_early_final(self, turn: _Turn) -> None:
        wait = self.config.early_final_ms
        last = self._vad.last_voiced_ms
        position = self._vad.position_ms
        if not wait or position - last < wait or turn.early_through_ms == last:
            return
        if turn.over_reply and self._vad.voiced_ms < self.config.barge_in_ms:
            return  # a backchannel so far: never transcribed
        start = max((self._vad.start_ms or 0) - self.config.vad.pre_roll_ms, self._audio_ms)
        wav = pcm16_to_wav(self._slice(start, position), SAMPLE_RATE)
        early = asyncio.ensure_future(self._transcribe(wav))
        early.add_done_callback(_retrieved)
        turn.early, turn.early_through_ms = early, last
        turn.early_start_ms, turn.early_began = start, time.monotonic()
        self._spawn(self._early_as_partial(turn, early, last))

    async def _early_as_partial(
        self, turn: _Turn, early: asyncio.Task[Transcript], through_ms: int
    ) -> None:
        """Speech went on after the pause: what the early job heard is a partial."""
        try:
            transcript = await asyncio.shield(early)
        except Exception:
            return
        self._timed(turn.early_began)
        text = transcript.text.strip()
        if text and self._turn is turn and not turn.final_sent:
            if self._vad.last_voiced_ms == through_ms and self.config.draft_replies:
                self._drop_draft(turn)
                turn.drafting = asyncio.ensure_future(self._draft(text))
            await self._publish(ev.VoicePartialTranscript(self._author, self.id, text, through_ms))

    async def _draft(self, text: str) -> Draft | None:
        draft = await self.deps.replies.draft(
            self.viewer, self.conversation_id, text[: voice_input.MAX_TEXT]
        )
        if draft is not None and self.closed:  # the session ended while it was prepared
            draft.cancel()
            return None
        if draft is not None:
            self._drafts.add(draft)
        return draft

    def _drop_draft(self, turn: _Turn) -> None:
        drafting, turn.drafting = turn.drafting, None
        if drafting is None:
            return
        if not drafting.done():
            drafting.cancel()
        elif (draft := _result(drafting)) is not None:
            draft.cancel()
            self._drafts.discard(draft)

    async def _turn_ended(self, end: TurnEnd) -> None:
        turn = self._turn or _Turn(0, over_reply=False)
        self._turn = None
        await self._publish(
            ev.VoiceTurnEnded(self._author, self.id, end.start_ms, end.end_ms, end.voiced_ms)
        )
        start = max(end.start_ms - self.config.vad.pre_roll_ms, self._audio_ms)
        pcm = self._slice(start, self._vad.position_ms)
        backchannel = turn.over_reply and end.voiced_ms < self.config.barge_in_ms
        previous = self._finals
        if turn.early is not None and turn.early_through_ms == end.end_ms:
            start = turn.early_start_ms  # under way since the pause began
        else:
            turn.early = None
            self._drop_draft(turn)
        self._finals = self._spawn(self._final(previous, turn, pcm, start, end, backchannel))

    async def _final(
        self,
        previous: asyncio.Task[None] | None,
        turn: _Turn,
        pcm: bytes,
        start_ms: int,
        end: TurnEnd,
        backchannel: bool,
    ) -> None:
        if previous is not None:  # finals go out in turn order
            await asyncio.wait([previous])
        if backchannel:
            turn.final_sent = True
            await self._outcomes.none("BACKCHANNEL")
            return
        began = time.monotonic() if turn.early is None else turn.early_began
        try:
            if turn.early is not None:
                transcript = await turn.early
            else:
                transcript = await self._transcribe(pcm16_to_wav(pcm, SAMPLE_RATE))
                self._timed(began)
        except AppError as e:
            turn.final_sent = True
            await self._outcomes.none("STT_FAILED", f"{e.code}: {e.message}")
            return
        except Exception as e:  # a provider error voice_input does not translate
            turn.final_sent = True
            await self._outcomes.none("STT_FAILED", str(e))
            return
        turn.final_sent = True
        stt_ms = (time.monotonic() - began) * 1000
        draft = None
        if turn.drafting is not None:
            await asyncio.wait([turn.drafting])
            draft = _result(turn.drafting)
        try:
            await self._outcomes.transcribed(transcript, stt_ms, start_ms, end, draft)
        finally:
            if draft is not None:
                self._drafts.discard(draft)

    # ---- helpers ---------------------------------------------------------------------

    async def _transcribe(self, wav: bytes) -> Transcript:
        """A turn's final transcript: an ``stt`` span in the trace of the sendVoiceChunk that
        started it, where the reply it becomes follows."""
        with tracing.span("stt", {"holomate.stt.provider": self.deps.stt.name}):
            return await voice_input.transcribe(self.deps.stt, wav, "audio/wav")

    @property
    def _author(self) -> int:
        return self.viewer.user_id

    async def _publish(self, event: ev.ConversationEvent, message_id: int = NO_MESSAGE) -> None:
        await self.deps.replies.publisher.publish(self.conversation_id, message_id, event)

    def _timed(self, began: float) -> None:
        self.deps.pace.observe((time.monotonic() - began) * 1000)

    def _slice(self, start_ms: int, end_ms: int) -> bytes:
        lo = max(0, (start_ms - self._audio_ms) * BYTES_PER_MS)
        hi = max(lo, (end_ms - self._audio_ms) * BYTES_PER_MS)
        return bytes(self._audio[lo:hi])

    def _trim(self, keep_from_ms: int) -> None:
        drop = (keep_from_ms - self._audio_ms) * BYTES_PER_MS
        if drop > 0:
            del self._audio[:drop]
            self._audio_ms = keep_from_ms

    def _spawn(self, job: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(job)
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)
        return task


def _result(drafting: asyncio.Task[Draft | None]) -> Draft | None:
    """The draft a finished drafting task made; None if it made none, failed or was cancelled
    (the reply then asks the model itself)."""
    if drafting.cancelled() or drafting.exception() is not None:
        return None
    return drafting.result()


def _retrieved(task: asyncio.Task[Transcript]) -> None:
    """An early transcription nobody awaited any more fails quietly (the final says why)."""
    if not task.cancelled():
        task.exception()
