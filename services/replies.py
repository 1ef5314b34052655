"""Conversation turns: store what a person says, produce the companion's reply in the
background, publish every event to the conversation's channel, and handle barge-in.

A reply runs in the process that received the message, which holds its owner lease while it
runs (services/reply_leases.py: when that process dies, another fails the reply within seconds);
``interruptReply`` may land on any process, so interrupts travel on a control channel every
process listens to.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline import events as ev
from pipeline.broadcast.errors import LogUnavailable
from pipeline.broadcast.hub import EventHub
from pipeline.broadcast.listen import listen_forever
from pipeline.broadcast.log_base import LogEntry
from pipeline.llm.base import LLMProvider
from pipeline.llm.fixed import FixedText
from pipeline.reply import (
    UNDELIVERED,
    ReplyControl,
    ReplyOutcome,
    ReplyPipeline,
    ReplyRequest,
    StoredChunk,
)
from pipeline.reply import heard_text as heard_text_of
from pipeline.storage.base import BlobStorage
from pipeline.stt.base import STTProvider
from pipeline.tts.base import TTSProvider
from services import conversations, reply_rows, turn_context, validation, voice_input
from services.channels import REPLIES_CONTROL, companion_channel, conversation_channel
from services.coalesce import DeltaCoalescer
from services.errors import BadUserInput, NotFound, QuotaExceeded
from services.events import envelope, message_snapshot, reply_event_data
from services.identity import Viewer
from services.reply_leases import LostReply, ReplyLeases
from store.base import utcnow
from store.db import connection_lost
from store.models import Companion, Conversation, Message, MessageRole, MessageStatus

log = logging.getLogger("holomate.replies")
MAX_TEXT = 4000
_T = TypeVar("_T")
FINISH_RETRY_S = 300  # how long a finished reply waits for the database to save its end

QuotaCheck = Callable[[AsyncSession, int], Awaitable[None]]
# (session, person, reply, the reply's audio in all) -> may it speak that much? (voice minutes)
VoiceSpend = Callable[[AsyncSession, int, int, int], Awaitable[bool]]
TurnObserver = Callable[[dict[str, float], str], None]
Closer = Callable[[], Awaitable[None]]
# (conversation, reply) -> background work once a reply was saved complete or interrupted:
# memories formed from the turn, the conversation's summary brought up to date.
AfterTurn = Callable[[int, int], Awaitable[None]]


@dataclass(slots=True)
class Providers:
    llm: LLMProvider
    tts: dict[str, TTSProvider]
    stt: STTProvider
    storage: BlobStorage
    default_tts: str = "espeak"

    def tts_for(self, provider: str | None) -> TTSProvider:
        return self.tts.get(provider or self.default_tts) or self.tts[self.default_tts]

    async def aclose(self) -> None:
        """Cloud providers own HTTP clients; offline ones have nothing to close."""
        for provider in (self.llm, self.stt, *self.tts.values()):
            close = getattr(provider, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()


@dataclass(slots=True)
class _Running:
    control: ReplyControl
    task: asyncio.Task[None]
    owner_id: int
    lost: bool = False  # its lease was taken over: a sweeper has published its end


@dataclass(slots=True)
class ReplyService:
    sessionmaker: async_sessionmaker[AsyncSession]
    hub: EventHub
    providers: Providers
    url_ttl_s: int = 3600
    context: turn_context.ContextConfig = field(default_factory=turn_context.ContextConfig)
    delta_window_s: float = 0.05
    quota_check: QuotaCheck | None = None
    voice_check: QuotaCheck | None = None
    voice_spend: VoiceSpend | None = None
    voice_length_check: voice_input.VoiceLengthCheck | None = None
    on_turn: TurnObserver | None = None
    leases: ReplyLeases | None = None  # made in start() from the sessionmaker when not given
    _running: dict[int, _Running] = field(default_factory=dict)
    _lease_keeper: asyncio.Task[None] | None = None
    # Closers of live subscriptions, by person: erasing an account ends them on every process.
    _sessions: dict[int, set[Closer]] = field(default_factory=dict)
    _listener: asyncio.Task[None] | None = None
    _companions: dict[int, int] = field(default_factory=dict)
    # Called on every process when an account is erased, after its sockets closed (caches of
    # rendered events drop what they hold of the person).
    erased_here: list[Callable[[int], None]] = field(default_factory=list)
    after_turn: list[AfterTurn] = field(default_factory=list)
    _background: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        if self.leases is None:
            self.leases = ReplyLeases(self.sessionmaker)
        await reply_rows.fail_orphans(self.sessionmaker)
        ready = asyncio.Event()
        self._listener = asyncio.create_task(self._listen_for_interrupts(ready))
        await ready.wait()
        self._lease_keeper = asyncio.create_task(self._keep_leases(self.leases), name="leases")

    async def _keep_leases(self, leases: ReplyLeases) -> None:
        """Each heartbeat: renew this process's leases, then end replies whose owner died."""
        while True:
            await asyncio.sleep(leases.heartbeat_s)
            try:
                for reply_id in await leases.renew(list(self._running)):
                    running = self._running.get(reply_id)
                    if running is not None:  # a sweeper already failed it: stop, say nothing
                        log.warning("reply %s: lease lost; stopping it", reply_id)
                        running.lost = True
                        running.control.interrupt(0)
                for lost in await leases.sweep():
                    await self._publish_owner_lost(lost)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the database may be away; try next heartbeat
                log.warning("reply lease heartbeat failed", exc_info=True)

    async def _publish_owner_lost(self, lost: LostReply) -> None:
        log.warning("reply %s: its process stopped renewing the lease; failed", lost.message_id)
        await self._publish(
            lost.conversation_id,
            lost.message_id,
            "ReplyFailed",
            {
                "code": lost.message.error_code,
                "detail": "The server producing this reply stopped; send the message again",
                "retryable": True,
                "message": message_snapshot(lost.message),
            },
        )

    async def stop(self) -> None:
        for running in list(self._running.values()):
            running.control.interrupt(0)
        tasks = [r.task for r in self._running.values()]
        if self._listener:
            self._listener.cancel()
            tasks.append(self._listener)
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 2)
        await self._drain_background()
        if self._lease_keeper:  # after the replies above saved their end
            self._lease_keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._lease_keeper
        await self.providers.aclose()

    # ---- a person speaks -------------------------------------------------------------

    async def send_message(
        self,
        viewer: Viewer,
        conversation_id: int,
        text: str,
        *,
        stt_ms: float | None = None,
        max_len: int = MAX_TEXT,
    ) -> Message:
        text = validation.text(text, "text", min_len=1, max_len=max_len)
        started = time.monotonic()
        async with self.sessionmaker() as session:
            conversation = await conversations.get_visible(session, viewer, conversation_id)
            if conversation.archived_at is not None:
                raise BadUserInput("This conversation is archived", field="conversationId")
            if self.quota_check is not None:
                await self.quota_check(session, viewer.user_id)
            now = utcnow()
            user_message = Message(
                conversation_id=conversation.id,
                author_id=viewer.user_id,
                role=MessageRole.USER,
                text=text,
                status=MessageStatus.COMPLETE,
                created_at=now,
                completed_at=now,
                timings={"stt_ms": round(stt_ms)} if stt_ms is not None else {},
            )
            session.add(user_message)
            await session.flush()
            reply = self._new_reply(session, conversation, now, user_message.id)
            await session.commit()
            request = await turn_context.build_request(
                session, conversation, viewer.user_id, reply.id, self.context
            )
            request, owner = await self._voiced(session, viewer, conversation, reply.id, request)
        await self._publish(
            conversation.id,
            user_message.id,
            "MessagePosted",
            {"message": message_snapshot(user_message)},
        )
        self._launch(conversation.id, reply.id, request, owner, started, stt_ms)
        return user_message

    async def greet(self, viewer: Viewer, conversation_id: int) -> str:
        """Stream the companion's greeting as the conversation's first reply, like any other.

        Returns the conversation's cursor from before it: a client subscribing after it gets
        the whole greeting, however late it subscribes.
        """
        cursor = await self.hub.tail(conversation_channel(conversation_id))
        started = time.monotonic()
        async with self.sessionmaker() as session:
            conversation = await conversations.get_visible(session, viewer, conversation_id)
            text = await turn_context.greeting_text(session, conversation, viewer.user_id)
            if not text:
                return cursor
            reply = self._new_reply(session, conversation, utcnow())
            await session.commit()
            request = await turn_context.voice_request(
                session, conversation, viewer.user_id, reply.id, []
            )
            request, owner = await self._voiced(session, viewer, conversation, reply.id, request)
        self._launch(conversation.id, reply.id, request, owner, started, None, FixedText(text))
        return cursor

    def _new_reply(
        self, session: AsyncSession, chat: Conversation, now: datetime, to: int | None = None
    ) -> Message:
        """The companion's reply, STREAMING, its lease claimed in the same INSERT (never
        STREAMING without a lease)."""
        assert self.leases is not None, "start() first"
        reply = Message(
            conversation_id=chat.id,
            role=MessageRole.COMPANION,
            text="",
            status=MessageStatus.STREAMING,
            reply_to_id=to,
            created_at=now,
            **self.leases.claim(now),
        )
        session.add(reply)
        chat.last_message_at = now
        return reply

    async def _voiced(
        self,
        session: AsyncSession,
        viewer: Viewer,
        conversation: Conversation,
        reply_id: int,
        request: ReplyRequest,
    ) -> tuple[ReplyRequest, int]:
        """The request as the person's voice minutes allow it, and whose files its audio is."""
        owner = (await session.get_one(Companion, conversation.companion_id)).owner_id
        if request.speak and not await self._voice_left(session, viewer.user_id):
            request = replace(request, speak=False)  # out of voice minutes: text only
        if request.speak and self.voice_spend is not None:
            request = replace(request, voice_allowance=self._voice_allowance(viewer, reply_id))
        return request, owner

    def _launch(
        self,
        conversation_id: int,
        reply_id: int,
        request: ReplyRequest,
        owner: int,
        started: float,
        stt_ms: float | None,
        llm: LLMProvider | None = None,
    ) -> None:
        control = ReplyControl()
        task = asyncio.create_task(
            self._run_reply(conversation_id, reply_id, request, control, started, stt_ms, llm)
        )
        self._running[reply_id] = _Running(control, task, owner)
        task.add_done_callback(lambda _: self._running.pop(reply_id, None))

    async def send_voice(
        self, viewer: Viewer, conversation_id: int, audio: bytes, mime_type: str
    ) -> Message:
        async with self.sessionmaker() as session:  # refuse strangers before any STT work
            await conversations.get_visible(session, viewer, conversation_id)
            wav = voice_input.inspect(audio)  # undecodable: refused from the header alone
            if self.voice_length_check is not None:
                await self.voice_length_check(session, viewer.user_id, wav.duration_ms)
        started = time.monotonic()
        transcript = await voice_input.transcribe(self.providers.stt, audio, mime_type)
        stt_ms = (time.monotonic() - started) * 1000
        text = voice_input.transcript_text(transcript)
        return await self.send_message(
            viewer, conversation_id, text, stt_ms=stt_ms, max_len=voice_input.MAX_TEXT
        )

    def _voice_allowance(self, viewer: Viewer, reply_id: int) -> Callable[[int], Awaitable[bool]]:
        spend = self.voice_spend
        assert spend is not None

        async def allow(total_ms: int) -> bool:
            async with self.sessionmaker() as session:
                return await spend(session, viewer.user_id, reply_id, total_ms)

        return allow

    async def _voice_left(self, session: AsyncSession, user_id: int) -> bool:
        if self.voice_check is None:
            return True
        try:
            await self.voice_check(session, user_id)
        except QuotaExceeded:
            return False
        return True

    # ---- barge-in ----------------------------------------------------------------------

    async def interrupt(self, viewer: Viewer, message_id: int, heard_until_ms: int) -> Message:
        if heard_until_ms < 0:
            raise BadUserInput("Must be zero or more", field="heardUntilMs")
        async with self.sessionmaker() as session:
            message = await session.get(Message, message_id)
            # A stranger's message answers exactly as a missing one: existence never leaks.
            if (
                message is None
                or message.role != MessageRole.COMPANION
                or await conversations.role_in(session, message.conversation_id, viewer.user_id)
                is None
            ):
                raise NotFound("Message")
            status: MessageStatus | None = message.status
        if status == MessageStatus.STREAMING:
            if message_id in self._running:
                await self._interrupt_here(message_id, heard_until_ms)
            else:
                await self.hub.publish(
                    REPLIES_CONTROL, json.dumps({"message_id": message_id, "ms": heard_until_ms})
                )
                await self._wait_settled(message_id)
            async with self.sessionmaker() as session:
                status = await session.scalar(
                    select(Message.status).where(Message.id == message_id)
                )
        # Also when the reply finished just as the interrupt arrived: it is still playing.
        if status == MessageStatus.COMPLETE:
            await self._truncate_finished(message_id, heard_until_ms)
        async with self.sessionmaker() as session:
            return await session.get_one(Message, message_id)

    async def _interrupt_here(self, message_id: int, heard_until_ms: int) -> None:
        running = self._running.get(message_id)
        if running is None:
            return
        running.control.interrupt(heard_until_ms)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(asyncio.shield(running.task), 5)

    async def _wait_settled(self, message_id: int, timeout_s: float = 5) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            async with self.sessionmaker() as session:
                status = await session.scalar(
                    select(Message.status).where(Message.id == message_id)
                )
            if status != MessageStatus.STREAMING:
                return
            await asyncio.sleep(0.02)

    async def _truncate_finished(self, message_id: int, heard_until_ms: int) -> None:
        """The reply was generated faster than it was played: keep what was heard."""
        async with self.sessionmaker() as session:
            message = await session.get_one(Message, message_id)
        chunks = [StoredChunk(**c) for c in message.audio or []]
        total = sum(c.duration_ms for c in chunks)
        if not chunks or heard_until_ms >= total:
            return
        heard = heard_text_of(chunks, heard_until_ms)
        # A fresh transaction that writes first (see _finish), guarded against a second
        # interrupt that got there before us.
        async with self.sessionmaker() as session:
            saved = await session.execute(
                update(Message)
                .where(Message.id == message_id, Message.status == MessageStatus.COMPLETE)
                .values(
                    text=heard,
                    status=MessageStatus.INTERRUPTED,
                    timings={**(message.timings or {}), "heard_until_ms": heard_until_ms},
                )
            )
            await session.commit()
            if not saved.rowcount:  # type: ignore[attr-defined]
                return
            snapshot = message_snapshot(await session.get_one(Message, message_id))
        await self._publish(
            message.conversation_id,
            message_id,
            "ReplyInterrupted",
            {"heard_text": snapshot["text"], "message": snapshot},
        )

    async def _listen_for_interrupts(self, ready: asyncio.Event) -> None:
        await listen_forever(self.hub, REPLIES_CONTROL, self._on_command, ready, log, "interrupt")

    async def _on_command(self, entry: LogEntry) -> None:
        command = json.loads(entry.payload)
        if "erase_user" in command:
            asyncio.create_task(self._end_user_here(int(command["erase_user"])))
        elif int(command["message_id"]) in self._running:
            asyncio.create_task(
                self._interrupt_here(int(command["message_id"]), int(command["ms"]))
            )

    # ---- live sessions of a person -------------------------------------------------------

    def track_session(self, user_id: int, close: Closer) -> Callable[[], None]:
        """Register a live subscription's closer; returns the function that forgets it."""
        self._sessions.setdefault(user_id, set()).add(close)

        def forget() -> None:
            closers = self._sessions.get(user_id)
            if closers is not None:
                closers.discard(close)
                if not closers:
                    del self._sessions[user_id]

        return forget

    async def user_erased(self, user_id: int) -> None:
        """Stop the person's replies and close their sockets on every process."""
        await self._end_user_here(user_id)
        await self.hub.publish(REPLIES_CONTROL, json.dumps({"erase_user": user_id}))

    async def _end_user_here(self, user_id: int) -> None:
        mine = [(rid, r) for rid, r in self._running.items() if r.owner_id == user_id]
        for reply_id, running in mine:
            running.control.interrupt(0)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(running.task), 5)
            self._running.pop(reply_id, None)
        if mine:  # audio a stopped reply wrote after the account's files were removed
            await self.providers.storage.delete_prefix(f"users/{user_id}/")
        for close in list(self._sessions.get(user_id, ())):
            with contextlib.suppress(Exception):
                await close()
        for forget in self.erased_here:
            forget(user_id)

    # ---- the reply ---------------------------------------------------------------------

    async def _run_reply(
        self,
        conversation_id: int,
        reply_id: int,
        request: ReplyRequest,
        control: ReplyControl,
        started: float,
        stt_ms: float | None,
        llm: LLMProvider | None = None,
    ) -> None:
        async with self.sessionmaker() as session:
            provider = await reply_rows.voice_provider_of(session, reply_id)
        pipeline = ReplyPipeline(
            llm or self.providers.llm,
            self.providers.tts_for(provider),
            self.providers.storage,
            url_ttl_s=self.url_ttl_s,
        )
        offset_ms = (time.monotonic() - started) * 1000
        first_publish: list[float] = []

        async def publish(kind: str, data: dict[str, Any]) -> None:
            await self._publish(conversation_id, reply_id, kind, data)
            if kind == "MessageDelta" and not first_publish:
                first_publish.append((time.monotonic() - started) * 1000)

        batcher = DeltaCoalescer(publish, self.delta_window_s)

        async def emit(event: ev.ReplyEvent) -> None:
            if isinstance(event, ev.ReplyCompleted | ev.ReplyInterrupted | ev.ReplyFailed):
                return  # published below, once the message row holds the final text
            if isinstance(event, ev.MessageDelta):
                await batcher.delta(event.text)
                return
            await batcher.other(*reply_event_data(event))

        try:
            outcome = await pipeline.run(request, emit, control)
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
        running = self._running.get(reply_id)
        if running is not None and running.lost:
            return  # a sweeper failed it and published its end
        try:
            await batcher.flush()
        except LogUnavailable:
            pass  # the text left unsent is in the saved message, which _finish writes anyway
        await self._finish(
            conversation_id, reply_id, outcome, offset_ms, first_publish, stt_ms, control, running
        )

    async def _retrying(
        self, running: _Running | None, reply_id: int, save: Callable[[], Awaitable[_T]]
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
        offset_ms: float,
        first_publish: list[float],
        stt_ms: float | None,
        control: ReplyControl,
        running: _Running | None = None,
    ) -> None:
        timings = reply_rows.timings_of(
            outcome,
            offset_ms,
            first_publish[0] if first_publish else None,
            stt_ms,
            control.heard_until_ms,
        )
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
        snapshot = message_snapshot(message)
        if status == MessageStatus.COMPLETE:
            await self._publish(conversation_id, reply_id, "ReplyCompleted", {"message": snapshot})
        elif status == MessageStatus.INTERRUPTED:
            await self._publish(
                conversation_id,
                reply_id,
                "ReplyInterrupted",
                {"heard_text": outcome.text, "message": snapshot},
            )
        else:
            await self._publish(
                conversation_id,
                reply_id,
                "ReplyFailed",
                {
                    "code": outcome.error_code or "INTERNAL_ERROR",
                    "detail": outcome.error_detail or "",
                    "retryable": outcome.retryable,
                    "message": snapshot,
                },
            )
        if self.on_turn is not None:
            self.on_turn({k: float(v) for k, v in message.timings.items()}, status.value)
        if status != MessageStatus.FAILED:
            for work in self.after_turn:
                self._in_background(work(conversation_id, reply_id), f"after turn {reply_id}")

    async def _drain_background(self, timeout_s: float = 5) -> None:
        """Let the turns' aftermath (some started by the replies stop() just ended) finish, so
        no database call is cut off mid-flight as the server goes away; stragglers past
        ``timeout_s`` are cancelled, and awaited."""
        if not self._background:
            return
        _, late = await asyncio.wait(set(self._background), timeout=timeout_s)
        for task in late:
            log.warning("%s still running at shutdown; cancelled", task.get_name())
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    def _in_background(self, work: Awaitable[None], what: str) -> None:
        """Work a reply leaves behind: logged when it fails, awaited (briefly) by stop()."""

        async def run() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a turn's aftermath never breaks the turn
                log.exception("%s failed", what)

        task = asyncio.create_task(run(), name=what)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _publish(
        self, conversation_id: int, message_id: int, kind: str, data: dict[str, Any]
    ) -> str:
        payload = envelope(kind, conversation_id, message_id, utcnow(), data)
        cursor = await self.hub.publish(conversation_channel(conversation_id), payload)
        # Holograms showing this companion follow its channel (resolvers/hologram.py).
        companion_id = await self._companion_of(conversation_id)
        if companion_id is not None:
            await self.hub.publish(companion_channel(companion_id), payload)
        return cursor

    async def _companion_of(self, conversation_id: int) -> int | None:
        """A conversation never changes companion, so the answer is cached for good."""
        if conversation_id not in self._companions:
            async with self.sessionmaker() as session:
                companion_id = await session.scalar(
                    select(Conversation.companion_id).where(Conversation.id == conversation_id)
                )
            if companion_id is None:
                return None
            if len(self._companions) >= 10_000:
                self._companions.clear()
            self._companions[conversation_id] = companion_id
        return self._companions[conversation_id]
