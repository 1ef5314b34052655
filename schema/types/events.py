"""The live stream of a conversation: the `ConversationEvent` union clients code against.

Its members are derived from the events declared in pipeline/events.py (schema/types/derived.py);
nothing about an event is written here. Every member carries ``cursor`` (pass it back as
``after`` to resume), ``conversationId``, ``messageId`` and ``at``. Within a reply, events
arrive in order, and the ``VisemeFrames`` and ``EmotionChanged`` of an audio chunk arrive
before that ``AudioChunk``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, Union

import strawberry

from pipeline import events as ev
from pipeline.event_codec import LoggedEvent, decode_event
from schema import ids
from schema.types.derived import Derived, Sign, Values, derive, description_of
from schema.types.memory import Memory
from schema.types.message import Message
from store.models import Message as MessageRow
from store.models import MessageRole, MessageStatus

Emotion = strawberry.enum(ev.Emotion, description=description_of(ev.Emotion))


@strawberry.interface
class EventBase:
    cursor: str
    conversation_id: strawberry.ID
    message_id: strawberry.ID
    at: datetime


def message_from_snapshot(data: ev.MessageSnapshot) -> Message:
    row = MessageRow(
        id=data.id,
        conversation_id=data.conversation_id,
        author_id=data.author_id,
        role=MessageRole(data.role),
        text=data.text,
        status=MessageStatus(data.status),
        created_at=data.created_at,
        completed_at=data.completed_at,
        timings=data.timings or {},
        error_code=data.error_code,
        author_removed=False,
        reply_to_id=data.reply_to_id,
    )
    return Message.from_model(row)


VisemeFrame = derive(ev.VisemeFrame, (), {})
VoiceWord = derive(ev.VoiceWord, (), {})
VALUES: Values = {
    ev.Emotion: (Emotion, lambda value, sign: value),
    ev.VisemeFrame: (VisemeFrame.graphql, VisemeFrame.build),
    ev.VoiceWord: (VoiceWord.graphql, VoiceWord.build),
    ev.MessageSnapshot: (Message, lambda value, sign: message_from_snapshot(value)),
    ev.MemorySnapshot: (Memory, lambda value, sign: Memory.from_snapshot(value)),
}
"""How the values events carry are shown (the same for device commands)."""

EVENT_TYPES: Mapping[type[Any], Derived] = {
    cls: derive(cls, (EventBase,), VALUES) for cls in ev.CONVERSATION_EVENTS
}
"""Every declared conversation event and its GraphQL type, in the union's order."""

if TYPE_CHECKING:
    ConversationEvent: TypeAlias = Any
else:
    ConversationEvent = Annotated[
        Union[tuple(d.graphql for d in EVENT_TYPES.values())],  # noqa: UP007 - built at runtime
        strawberry.union("ConversationEvent"),
    ]


def event_object(cursor: str, logged: LoggedEvent[ev.ConversationEvent], sign: Sign) -> Any:
    """The union member for one decoded event; ``sign(key)`` makes a fresh audio URL."""
    return EVENT_TYPES[type(logged.event)].build(
        logged.event,
        sign,
        cursor=cursor,
        conversation_id=strawberry.ID(ids.encode("Conversation", logged.conversation_id)),
        message_id=strawberry.ID(ids.encode("Message", logged.message_id)),
        at=logged.at,
    )


def event_from_payload(cursor: str, payload: str | bytes | Mapping[str, Any], sign: Sign) -> Any:
    """The union member for one logged envelope (its JSON or that JSON loaded)."""
    return event_object(cursor, decode_event(payload), sign)
