"""Barge-in: the person speaks over the companion. The reply stops where it was heard, on
whichever process runs it; one already generated (faster than it was played) is cut back to
the words that were heard."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline import events as ev
from pipeline.broadcast.hub import EventHub
from pipeline.reply import StoredChunk
from pipeline.reply import heard_text as heard_text_of
from services import conversations
from services.errors import BadUserInput, NotFound
from services.events import message_of
from services.identity import Viewer
from services.replies.control import send_interrupt
from services.replies.publishing import Publisher
from services.replies.running import RunningReplies
from store.models import Message, MessageRole, MessageStatus


class BargeIn:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        hub: EventHub,
        running: RunningReplies,
        publisher: Publisher,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.hub = hub
        self.running = running
        self.publisher = publisher

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
            if message_id in self.running:
                await self.interrupt_here(message_id, heard_until_ms)
            else:
                await send_interrupt(self.hub, message_id, heard_until_ms)
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

    async def interrupt_here(self, message_id: int, heard_until_ms: int) -> None:
        """Stop a reply this process runs, if it still does, and wait until it saved its end."""
        running = self.running.get(message_id)
        if running is not None:
            await running.stop(heard_until_ms)

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
        # A fresh transaction that writes first (see runner.py's _finish), guarded against a
        # second interrupt that got there before us.
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
            snapshot = message_of(await session.get_one(Message, message_id))
        await self.publisher.publish(
            message.conversation_id, message_id, ev.ReplyInterrupted(snapshot.text, snapshot)
        )
