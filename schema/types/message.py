"""Messages of a conversation, with the per-turn latency breakdown of companion replies."""

from __future__ import annotations

from datetime import datetime

import strawberry

from context.request import Context
from schema import ids
from schema.types.enums import MessageRole, MessageStatus
from schema.types.user import PublicUser
from store.models import Message as MessageRow


@strawberry.type(description="Where the time of one reply went, in milliseconds from the send.")
class MessageTimings:
    stt_ms: int | None = None
    llm_first_token_ms: int | None = None
    first_delta_ms: int | None = None
    first_audio_ms: int | None = None
    first_viseme_ms: int | None = None
    total_ms: int | None = None


@strawberry.type
class Message:
    row: strawberry.Private[MessageRow]
    id: strawberry.ID
    conversation_id: strawberry.ID
    role: MessageRole
    text: str
    status: MessageStatus
    created_at: datetime
    completed_at: datetime | None
    error_code: str | None

    @strawberry.field
    def timings(self) -> MessageTimings:
        data = self.row.timings or {}
        return MessageTimings(
            **{k: int(v) for k, v in data.items() if k in _TIMING_FIELDS and v is not None}
        )

    @strawberry.field(
        description="The person who wrote it; null for companion and system messages."
    )
    async def author(self, info: strawberry.Info[Context, None]) -> PublicUser | None:
        if self.row.author_id is None:
            return PublicUser.from_model(None) if self.row.author_removed else None
        return PublicUser.from_model(await info.context.loaders.user_by_id.load(self.row.author_id))

    @classmethod
    def from_model(cls, row: MessageRow) -> Message:
        return cls(
            row=row,
            id=strawberry.ID(ids.encode("Message", row.id)),
            conversation_id=strawberry.ID(ids.encode("Conversation", row.conversation_id)),
            role=row.role,
            text=row.text,
            status=row.status,
            created_at=row.created_at,
            completed_at=row.completed_at,
            error_code=row.error_code,
        )


_TIMING_FIELDS = {
    "stt_ms",
    "llm_first_token_ms",
    "first_delta_ms",
    "first_audio_ms",
    "first_viseme_ms",
    "total_ms",
}
