"""Conversations: a companion and the people who talk with it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from context.request import Context
from schema import ids
from schema.types.connection import Connection
from schema.types.enums import ParticipantRole
from schema.types.message import Message
from schema.types.user import PublicUser
from services.paging import PageArgs
from store.models import Conversation as ConversationRow

if TYPE_CHECKING:
    from schema.types.companion import Companion


@strawberry.type
class Participant:
    user: PublicUser
    role: ParticipantRole
    joined_at: datetime


@strawberry.type
class Conversation:
    row: strawberry.Private[ConversationRow]
    id: strawberry.ID
    title: str
    archived: bool
    created_at: datetime
    last_message_at: datetime | None
    summary: str = strawberry.field(
        description="Older turns folded into a running summary once the history outgrew the "
        'prompt; the model reads it instead of them. "" until then.'
    )
    summary_updated_at: datetime | None
    # startConversation's answer: the cursor from before the greeting (see live_cursor).
    pinned_cursor: strawberry.Private[str | None] = None

    @strawberry.field
    async def companion(
        self, info: strawberry.Info[Context, None]
    ) -> Annotated[Companion, strawberry.lazy("schema.types.companion")] | None:
        from schema.types.companion import Companion

        row = await info.context.loaders.companion_by_id.load(self.row.companion_id)
        return Companion.from_model(row) if row else None

    @strawberry.field
    async def participants(self, info: strawberry.Info[Context, None]) -> list[Participant]:
        rows = await info.context.loaders.participants_by_conversation_id.load(self.row.id)
        users = await info.context.loaders.user_by_id.load_many([r.user_id for r in rows])
        return [
            Participant(user=PublicUser.from_model(user), role=row.role, joined_at=row.joined_at)
            for row, user in zip(rows, users, strict=True)
        ]

    @strawberry.field(
        description="The newest event's cursor: subscribe to conversationEvents with "
        "`after: liveCursor` to receive everything from this moment on, with no race. "
        "In startConversation's answer it is the cursor from before the greeting, which then "
        "arrives whole."
    )
    async def live_cursor(self, info: strawberry.Info[Context, None]) -> str:
        if self.pinned_cursor is not None:  # startConversation: the greeting is included
            return self.pinned_cursor
        from services.channels import conversation_channel

        hub = info.context.app.hub
        assert hub is not None
        return await hub.tail(conversation_channel(self.row.id))

    @strawberry.field(description="Oldest first; `last: 1` is the newest message.")
    async def messages(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Message]:
        args = PageArgs(first=first, after=after, last=last, before=before).validated()
        page = await info.context.loaders.message_page_by_conversation.load((self.row.id, args))
        return Connection[Message].from_page(page, Message.from_model)

    @classmethod
    def from_model(cls, row: ConversationRow, live_cursor: str | None = None) -> Conversation:
        return cls(
            row=row,
            id=strawberry.ID(ids.encode("Conversation", row.id)),
            title=row.title,
            archived=row.archived_at is not None,
            created_at=row.created_at,
            last_message_at=row.last_message_at,
            summary=row.summary or "",
            summary_updated_at=row.summary_updated_at,
            pinned_cursor=live_cursor,
        )
