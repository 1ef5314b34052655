"""Messages of a conversation, with the per-turn latency breakdown of companion replies."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.context import Context
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

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("Message", self.row.id))

    @strawberry.field
    def conversation_id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("Conversation", self.row.conversation_id))

    @strawberry.field
    def role(self) -> MessageRole:
        return self.row.role

    @strawberry.field
    def text(self) -> str:
        return self.row.text

    @strawberry.field
    def status(self) -> MessageStatus:
        return self.row.status

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    def completed_at(self) -> datetime | None:
        return self.row.completed_at

    @strawberry.field
    def error_code(self) -> str | None:
        return self.row.error_code

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
        return cls(row=row)


_TIMING_FIELDS = {
    "stt_ms",
    "llm_first_token_ms",
    "first_delta_ms",
    "first_audio_ms",
    "first_viseme_ms",
    "total_ms",
}
