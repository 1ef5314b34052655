"""Running a reply and saving its end: the pipeline streams it (events published as they come,
deltas coalesced), then the row gets its final text, status and timings, and only then is the
terminal event published, so whoever reads the message after it sees what it announced."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from opentelemetry.trace import StatusCode
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline import events as ev
from pipeline.broadcast.errors import LogUnavailable
from pipeline.llm.base import LLMProvider
from pipeline.reply import UNDELIVERED, ReplyControl, ReplyOutcome, ReplyPipeline, ReplyRequest
from services import reply_rows, tracing
from services.coalesce import DeltaCoalescer
from services.events import message_of
from services.replies.providers import Providers
from services.replies.publishing import Publisher
from services.replies.running import RunningReplies, RunningReply
from services.replies.tasks import TaskSet
from services.replies.traced import TracedLLM, TracedStorage, TracedTTS
from store.db import connection_lost
from store.models import Message, MessageStatus

log = logging.getLogger("holomate.replies")
_T = TypeVar("_T")
FINISH_RETRY_S = 300  # how long a finished reply waits for the database to save its end

TurnObserver = Callable[[dict[str, float], str], None]
# (conversation, reply) -> background work once a reply was saved complete or interrupted:
# memories formed from the turn, the conversation's summary brought up to date.
AfterTurn = Callable[[int, int], Coroutine[Any, Any, None]]


@dataclass(slots=True)
class Turn:
    """One reply to produce, as accepted."""

    conversation_id: int
    reply_id: int
    request: ReplyRequest
    owner_id: int  # whose files its audio is
    started: float  # time.monotonic() when the person's turn arrived
    stt_ms: float | None = None
    llm: LLMProvider | None = None  # instead of the app's: a greeting's fixed text, a draft
    voice: str | None = None  # the provider of the companion's voice; None: the default


@dataclass(slots=True)
class ReplyRunner:
    sessionmaker: async_sessionmaker[AsyncSession]
    providers: Providers
    publisher: Publisher
    running: RunningReplies
    delta_window_s: float = 0.05
    on_turn: TurnObserver | None = None
    after_turn: list[AfterTurn] = field(default_factory=list)
    replies: TaskSet = field(default_factory=lambda: TaskSet(log))
    aftermath: TaskSet = field(default_factory=lambda: TaskSet(log))

    def launch(self, turn: Turn) -> None:
        control = ReplyControl()
        task = self.replies.start(self._run(turn, control), f"reply {turn.reply_id}")
        self.running.add(turn.reply_id, RunningReply(control, task, turn.owner_id))

    async def stop(self, timeout_s: float = 2, aftermath_s: float = 5) -> None:
        """Interrupt every reply and let each save its end, then let the work they left behind
        finish (briefly)."""
        for running in self.running.all():
            running.control.interrupt(0)
        await self.replies.drain(timeout_s)
        await self.aftermath.drain(aftermath_s)

    async def _run(self, turn: Turn, control: ReplyControl) -> None:
        """In the span of the request that started the turn (the task copied its context)."""
        ids = {"holomate.conversation.id": turn.conversation_id, "holomate.reply.id": turn.reply_id}
        with tracing.span("reply", ids) as span:
            status = await self._produce(turn, control)
            span.set_attribute("holomate.reply.status", status)
            if status == "failed":
                span.set_status(StatusCode.ERROR)

    def _pipeline(self, turn: Turn) -> ReplyPipeline:
        llm = turn.llm or self.providers.llm
        tts = self.providers.tts_for(turn.voice)
        storage = self.providers.storage
        if tracing.enabled():
            return ReplyPipeline(TracedLLM(llm), TracedTTS(tts), TracedStorage(storage))
        return ReplyPipeline(llm, tts, storage)

    async def _produce(self, turn: Turn, control: ReplyControl) -> str:
        """Returns how the reply ended (``lost``: a sweeper ended it)."""
        reply_id = turn.reply_id
        pipeline = self._pipeline(turn)
        offset_ms = (time.monotonic() - turn.started) * 1000
        first_publish: list[float] = []

        async def publish(event: ev.ConversationEvent) -> None:
            await self.publisher.publish(turn.conversation_id, reply_id, event)
            if isinstance(event, ev.MessageDelta) and not first_publish:
                first_publish.append((time.monotonic() - turn.started) * 1000)

        batcher = DeltaCoalescer(publish, self.delta_window_s)

        async def emit(event: ev.ReplyEvent) -> None:
            if isinstance(event, ev.MessageDelta):
                await batcher.delta(event.text)
                return
            await batcher.other(event)  # its end is published below, once the row is saved

        try:
            outcome = await pipeline.run(turn.request, emit, control)
        except LogUnavailable as e:
            # The replay log stayed unreachable past the hub's wait (hub.publish): listeners can
            # no longer be told anything. The message is saved as failed, retryably, so a client
            # that reloads (its stream ends SERVICE_UNAVAILABLE or CURSOR_EXPIRED) sees why.
            log.warning("reply %s: the replay log is unreachable: %s", reply_id, e)
            outcome = ReplyOutcome(
                status="failed",
                text="",
                error_code=e.code,
                error_detail=UNDELIVERED,
                retryable=True,
            )
        except Exception as e:  # noqa: BLE001 - a reply must always end with an event
            log.exception("reply %s crashed", reply_id)
            outcome = ReplyOutcome(
                status="failed", text="", error_code="INTERNAL_ERROR", error_detail=type(e).__name__
            )
        running = self.running.get(reply_id)
        if running is not None and running.lost:
            return "lost"  # a sweeper failed it and published its end
        try:
            await batcher.flush()
        except LogUnavailable:
            pass  # the text left unsent is in the saved message, which _finish writes anyway
        timings = reply_rows.timings_of(
            outcome,
            offset_ms,
            first_publish[0] if first_publish else None,
            turn.stt_ms,
            control.heard_until_ms,
        )
        with tracing.span("reply.save"):
            await self._finish(turn.conversation_id, reply_id, outcome, timings, running)
        return outcome.status

    async def _retrying(
        self, running: RunningReply | None, reply_id: int, save: Callable[[], Awaitable[_T]]
    ) -> _T | None:
        """Save the reply's end, retrying while the database is unreachable (SQLite's "database
        is locked" under write bursts, PostgreSQL restarting): the reply keeps its lease
        meanwhile, so its real end is saved once the database answers. Given up after
        ``FINISH_RETRY_S`` or on another error: the lease then runs out, and a sweep ends the
        reply as REPLY_OWNER_LOST, so listeners never wait on it for good."""
        deadline = time.monotonic() + FINISH_RETRY_S
        delay = 0.05
        for attempt in itertools.count(1):
            try:
                return await save()
            except Exception as e:
                lost = running is not None and running.lost
                if not connection_lost(e) or lost or time.monotonic() > deadline:
                    log.exception("saving reply %s failed; a lease sweep will end it", reply_id)
                    return None
                log.warning("saving reply %s failed (attempt %d): %r", reply_id, attempt, e)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    async def _finish(
        self,
        conversation_id: int,
        reply_id: int,
        outcome: ReplyOutcome,
        timings: dict[str, int | None],
        running: RunningReply | None,
    ) -> None:
        status = reply_rows.STATUS_OF[outcome.status]
        committed = False

        async def save() -> Message | None:
            nonlocal committed
            async with self.sessionmaker() as session:
                if not committed:  # a retry after the commit only reads the row back
                    if not await reply_rows.save_end(session, reply_id, outcome, timings):
                        return None  # deleted while it was being produced, or swept
                    committed = True
                return await session.get_one(Message, reply_id)

        message = await self._retrying(running, reply_id, save)
        if message is None:
            return
        snapshot = message_of(message)
        end: ev.ConversationEvent
        if status == MessageStatus.COMPLETE:
            end = ev.ReplyCompleted(snapshot)
        elif status == MessageStatus.INTERRUPTED:
            end = ev.ReplyInterrupted(outcome.text, snapshot)
        else:
            code = outcome.error_code or "INTERNAL_ERROR"
            end = ev.ReplyFailed(code, outcome.error_detail or "", outcome.retryable)
        await self.publisher.publish(conversation_id, reply_id, end)
        # One line a turn: in JSON logs it carries the request, operation, user and trace.
        log.info("reply %s %s in %s ms", reply_id, status.value, timings.get("total_ms"))
        if self.on_turn is not None:
            self.on_turn({k: float(v) for k, v in message.timings.items()}, status.value)
        if status != MessageStatus.FAILED:
            for work in self.after_turn:
                self.aftermath.start(work(conversation_id, reply_id), f"after turn {reply_id}")
