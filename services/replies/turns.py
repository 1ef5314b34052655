"""Accepting a turn: a person's message (typed or spoken) or the companion's greeting is checked
against the person's quotas, stored with the reply's row (STREAMING, its lease claimed), and the
reply launched in the background."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline import events as ev
from pipeline.llm.draft import Draft
from pipeline.llm.fixed import FixedText
from pipeline.reply import ReplyRequest
from services import conversations, tracing, turn_context, validation, voice_input
from services.errors import AppError, BadUserInput, QuotaExceeded
from services.events import message_of
from services.identity import Viewer
from services.replies.providers import Providers
from services.replies.publishing import Publisher
from services.replies.runner import ReplyRunner, Turn
from services.reply_leases import ReplyLeases
from store.base import utcnow
from store.models import (
    Conversation,
    Message,
    MessageRole,
    MessageStatus,
)

MAX_TEXT = 4000

QuotaCheck = Callable[[AsyncSession, int], Awaitable[None]]
# (session, person, reply, the reply's audio in all, grant ahead) -> its new grant, 0: refused
VoiceSpend = Callable[[AsyncSession, int, int, int, int], Awaitable[int]]
VOICE_GRANT_AHEAD_MS = 20_000  # a typical reply then asks once, not once a sentence


@dataclass(slots=True)
class Quotas:
    """What a person's plan allows; None: unlimited."""

    messages: QuotaCheck | None = None
    voice: QuotaCheck | None = None
    voice_spend: VoiceSpend | None = None
    voice_length: voice_input.VoiceLengthCheck | None = None


@dataclass(slots=True)
class Turns:
    sessionmaker: async_sessionmaker[AsyncSession]
    providers: Providers
    leases: ReplyLeases
    context: turn_context.ContextConfig
    quotas: Quotas
    publisher: Publisher
    runner: ReplyRunner

    async def send_message(
        self,
        viewer: Viewer,
        conversation_id: int,
        text: str,
        *,
        stt_ms: float | None = None,
        max_len: int = MAX_TEXT,
        draft: Draft | None = None,
    ) -> Message:
        """``draft``: the reply begun while the person paused (:meth:`draft`), read by the
        reply if its prompt is the same; cancelled otherwise."""
        text = validation.text(text, "text", min_len=1, max_len=max_len)
        started = time.monotonic()
        async with self.sessionmaker() as session:
            conversation = await self._accepting(session, viewer, conversation_id)
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
            with tracing.span("prompt") as span:
                rows = await turn_context.speaking(session, conversation, viewer.user_id)
                request = await turn_context.build_request(
                    session, conversation, viewer.user_id, reply.id, self.context, rows
                )
                span.set_attribute("holomate.prompt.messages", len(request.messages))
            request, owner, provider = await self._voiced(session, viewer, rows, reply.id, request)
        await self.publisher.publish(
            conversation.id, user_message.id, ev.MessagePosted(message_of(user_message))
        )
        drafted = draft.take() if draft is not None and draft.fits(request.messages) else None
        self.runner.launch(
            Turn(
                conversation.id,
                reply.id,
                request,
                owner,
                started,
                stt_ms,
                llm=drafted,
                voice=provider,
            )
        )
        return user_message

    async def draft(self, viewer: Viewer, conversation_id: int, text: str) -> Draft | None:
        """The reply to ``text`` begun now, before the person's turn is certain (nothing is
        written or published); None where :meth:`send_message` would refuse it."""
        try:
            text = validation.text(text, "text", min_len=1, max_len=voice_input.MAX_TEXT)
            async with self.sessionmaker() as session:
                conversation = await self._accepting(session, viewer, conversation_id)
                rows = await turn_context.speaking(session, conversation, viewer.user_id)
                messages = await turn_context.draft_messages(
                    session, conversation, viewer.user_id, text, self.context, rows
                )
        except AppError:
            return None
        return Draft(self.providers.llm, messages)

    async def _accepting(
        self, session: AsyncSession, viewer: Viewer, conversation_id: int
    ) -> Conversation:
        """The conversation a message of ``viewer``'s may go to now: theirs to see, not
        archived, within their plan's messages."""
        conversation = await conversations.get_visible(session, viewer, conversation_id)
        if conversation.archived_at is not None:
            raise BadUserInput("This conversation is archived", field="conversationId")
        if self.quotas.messages is not None:
            await self.quotas.messages(session, viewer.user_id)
        return conversation

    async def send_voice(
        self, viewer: Viewer, conversation_id: int, audio: bytes, mime_type: str
    ) -> Message:
        async with self.sessionmaker() as session:  # refuse strangers before any STT work
            await conversations.get_visible(session, viewer, conversation_id)
            wav = voice_input.inspect(audio)  # undecodable: refused from the header alone
            if self.quotas.voice_length is not None:
                await self.quotas.voice_length(session, viewer.user_id, wav.duration_ms)
        started = time.monotonic()
        attributes: tracing.Attributes = {
            "holomate.stt.provider": self.providers.stt.name,
            "holomate.stt.bytes": len(audio),
        }
        with tracing.span("stt", attributes) as span:
            transcript = await voice_input.transcribe(self.providers.stt, audio, mime_type)
            span.set_attribute("holomate.stt.words", len(transcript.text.split()))
        stt_ms = (time.monotonic() - started) * 1000
        text = voice_input.transcript_text(transcript)
        return await self.send_message(
            viewer, conversation_id, text, stt_ms=stt_ms, max_len=voice_input.MAX_TEXT
        )

    async def greet(self, viewer: Viewer, conversation_id: int) -> str:
        """Stream the companion's greeting as the conversation's first reply, like any other.

        Returns the conversation's cursor from before it: a client subscribing after it gets
        the whole greeting, however late it subscribes.
        """
        cursor = await self.publisher.tail(conversation_id)
        started = time.monotonic()
        async with self.sessionmaker() as session:
            conversation = await conversations.get_visible(session, viewer, conversation_id)
            rows = await turn_context.speaking(session, conversation, viewer.user_id)
            text = await turn_context.greeting_text(session, rows, viewer.user_id)
            if not text:
                return cursor
            reply = self._new_reply(session, conversation, utcnow())
            await session.commit()
            request = turn_context.voice_request(rows, reply.id, [])
            request, owner, provider = await self._voiced(session, viewer, rows, reply.id, request)
        self.runner.launch(
            Turn(
                conversation.id,
                reply.id,
                request,
                owner,
                started,
                llm=FixedText(text),
                voice=provider,
            )
        )
        return cursor

    def _new_reply(
        self, session: AsyncSession, chat: Conversation, now: datetime, to: int | None = None
    ) -> Message:
        """The companion's reply, STREAMING, its lease claimed in the same INSERT (never
        STREAMING without a lease)."""
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
        rows: turn_context.Speaking,
        reply_id: int,
        request: ReplyRequest,
    ) -> tuple[ReplyRequest, int, str | None]:
        """The request as the person's voice minutes allow it, whose files its audio is, and
        the provider of the companion's voice (None: the default)."""
        companion, profile = rows.companion, rows.voice
        if request.speak and not await self._voice_left(session, viewer.user_id):
            request = replace(request, speak=False)  # out of voice minutes: text only
        if request.speak and self.quotas.voice_spend is not None:
            request = replace(request, voice_allowance=self._voice_allowance(viewer, reply_id))
        return request, companion.owner_id, None if profile is None else profile.provider

    def _voice_allowance(self, viewer: Viewer, reply_id: int) -> Callable[[int], Awaitable[bool]]:
        spend = self.quotas.voice_spend
        assert spend is not None

        granted = 0

        async def allow(total_ms: int) -> bool:
            nonlocal granted
            if total_ms <= granted:
                return True
            async with self.sessionmaker() as session:
                grant = await spend(
                    session, viewer.user_id, reply_id, total_ms, VOICE_GRANT_AHEAD_MS
                )
            granted = max(granted, grant)
            return grant > 0

        return allow

    async def _voice_left(self, session: AsyncSession, user_id: int) -> bool:
        if self.quotas.voice is None:
            return True
        try:
            await self.quotas.voice(session, user_id)
        except QuotaExceeded:
            return False
        return True
