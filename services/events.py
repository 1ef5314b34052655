"""Conversation events as services publish them: rows taken into the declared snapshots
(pipeline/events.py), and one log entry per event (pipeline/event_codec.py).

Audio is logged by storage key, not URL, so every delivery (live or replayed days later)
gets a freshly signed URL.
"""

from __future__ import annotations

from datetime import datetime

from pipeline import events as ev
from pipeline.event_codec import encode_event
from store.base import utcnow
from store.models import Memory, Message


def message_of(row: Message) -> ev.MessageSnapshot:
    return ev.MessageSnapshot(
        id=row.id,
        conversation_id=row.conversation_id,
        author_id=row.author_id,
        role=row.role.value,
        text=row.text,
        status=row.status.value,
        created_at=row.created_at,
        completed_at=row.completed_at,
        timings=row.timings or {},
        error_code=row.error_code,
        reply_to_id=row.reply_to_id,
    )


def memory_of(memory: Memory) -> ev.MemorySnapshot:
    return ev.MemorySnapshot(
        id=memory.id,
        author_id=memory.owner_id,
        companion_id=memory.companion_id,
        text=memory.text,
        kind=memory.kind,
        importance=memory.importance,
        origin=memory.origin.value,
        conversation_id=memory.conversation_id,
        message_id=memory.message_id,
        created_at=memory.created_at,
        updated_at=memory.updated_at,
        last_recalled_at=memory.last_recalled_at,
    )


def logged(
    conversation_id: int,
    message_id: int,
    event: ev.ConversationEvent,
    at: datetime | None = None,
) -> str:
    """The log entry that publishes ``event`` (now, unless ``at`` says when)."""
    return encode_event(conversation_id, message_id, at or utcnow(), event)
