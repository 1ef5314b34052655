"""Where a conversation's events go: the replay log and live listeners of its channel, once.
The companion's channel gets one pointer per message ("conversation N is live from cursor X"):
its holograms follow it, and through it the conversation (resolvers/hologram.py)."""

from __future__ import annotations

from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline import events as ev
from pipeline.broadcast.hub import EventHub
from services import tracing
from services.channels import companion_channel, conversation_channel, conversation_live
from services.events import logged
from store.models import Conversation

COMPANIONS_CACHED = 10_000
ANNOUNCED_KEPT = 10_000  # messages whose pointer went out (a reply's events: one message)


class Publisher:
    def __init__(self, hub: EventHub, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.hub = hub
        self.sessionmaker = sessionmaker
        self._companions: dict[int, int] = {}
        self._announced: OrderedDict[tuple[int, int], None] = OrderedDict()

    async def tail(self, conversation_id: int) -> str:
        """The conversation's cursor now: a subscriber from it gets everything published
        after."""
        return await self.hub.tail(conversation_channel(conversation_id))

    async def publish(
        self, conversation_id: int, message_id: int, event: ev.ConversationEvent
    ) -> str:
        """Log and broadcast one event; returns its cursor on the conversation's channel.
        A message's first event is announced on the companion's channel first."""
        with tracing.span("publish", {"holomate.event": type(event).__name__}):
            return await self._publish(conversation_id, message_id, event)

    async def _publish(
        self, conversation_id: int, message_id: int, event: ev.ConversationEvent
    ) -> str:
        payload = logged(conversation_id, message_id, event)
        channel = conversation_channel(conversation_id)
        if (conversation_id, message_id) not in self._announced:
            await self._announce(conversation_id, channel)
            self._announced[(conversation_id, message_id)] = None
            if len(self._announced) > ANNOUNCED_KEPT:
                self._announced.popitem(last=False)
        return await self.hub.publish(channel, payload)

    async def announce(self, conversation_id: int) -> None:
        """A pointer with no message: for events that belong to none yet (a voice session's)."""
        await self._announce(conversation_id, conversation_channel(conversation_id))

    async def _announce(self, conversation_id: int, channel: str) -> None:
        companion_id = await self._companion_of(conversation_id)
        if companion_id is not None:
            after = await self.hub.tail(channel)  # before this message's first event
            pointer = conversation_live(conversation_id, after)
            await self.hub.publish(companion_channel(companion_id), pointer)

    async def _companion_of(self, conversation_id: int) -> int | None:
        """A conversation never changes companion, so the answer is cached for good."""
        if conversation_id not in self._companions:
            async with self.sessionmaker() as session:
                companion_id = await session.scalar(
                    select(Conversation.companion_id).where(Conversation.id == conversation_id)
                )
            if companion_id is None:
                return None
            if len(self._companions) >= COMPANIONS_CACHED:
                self._companions.clear()
            self._companions[conversation_id] = companion_id
        return self._companions[conversation_id]
