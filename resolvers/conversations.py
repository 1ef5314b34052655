"""conversation, conversations and the mutations that shape a conversation."""

from __future__ import annotations

import strawberry
from sqlalchemy import ColumnElement, select

from context.request import Context
from schema import ids
from schema.types.connection import Connection
from schema.types.conversation import Conversation
from services import conversations
from services.paging import PageArgs, paginate_many
from store.models import Conversation as ConversationRow
from store.models import ConversationParticipant


@strawberry.type
class ConversationQuery:
    @strawberry.field
    async def conversation(
        self, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> Conversation:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            row = await conversations.get_visible(session, viewer, ids.decode("Conversation", id))
        return Conversation.from_model(row)

    @strawberry.field(description="Conversations the caller takes part in, newest first.")
    async def conversations(
        self,
        info: strawberry.Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        companion_id: strawberry.ID | None = None,
        include_archived: bool = False,
    ) -> Connection[Conversation]:
        viewer = info.context.person()
        args = PageArgs(first=first, after=after).validated()
        visible = select(ConversationParticipant.conversation_id).where(
            ConversationParticipant.user_id == viewer.user_id
        )
        where: list[ColumnElement[bool]] = [ConversationRow.id.in_(visible)]
        if companion_id is not None:
            where.append(ConversationRow.companion_id == ids.decode("Companion", companion_id))
        if not include_archived:
            where.append(ConversationRow.archived_at.is_(None))
        async with info.context.app.sessionmaker() as session:
            pages = await paginate_many(
                session, ConversationRow, None, [0], args, newest_first=True, where=where
            )
        return Connection[Conversation].from_page(pages[0], Conversation.from_model)


@strawberry.type
class ConversationMutation:
    @strawberry.mutation
    async def start_conversation(
        self,
        info: strawberry.Info[Context, None],
        companion_id: strawberry.ID,
        title: str | None = None,
    ) -> Conversation:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            row = await conversations.start(
                session, viewer, ids.decode("Companion", companion_id), title
            )
        assert info.context.app.replies is not None
        cursor = await info.context.app.replies.greet(viewer, row.id)
        return Conversation.from_model(row, live_cursor=cursor)

    @strawberry.mutation
    async def rename_conversation(
        self, info: strawberry.Info[Context, None], id: strawberry.ID, title: str
    ) -> Conversation:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            row = await conversations.rename(session, viewer, ids.decode("Conversation", id), title)
        return Conversation.from_model(row)

    @strawberry.mutation
    async def archive_conversation(
        self, info: strawberry.Info[Context, None], id: strawberry.ID, archived: bool = True
    ) -> Conversation:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            row = await conversations.archive(
                session, viewer, ids.decode("Conversation", id), archived
            )
        return Conversation.from_model(row)

    @strawberry.mutation(description="Add another person, by their account email.")
    async def invite_to_conversation(
        self, info: strawberry.Info[Context, None], id: strawberry.ID, email: str
    ) -> Conversation:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            row = await conversations.invite(session, viewer, ids.decode("Conversation", id), email)
        return Conversation.from_model(row)

    @strawberry.mutation(description="Returns the deleted message's id.")
    async def delete_message(
        self, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> strawberry.ID:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            await conversations.delete_message(session, viewer, ids.decode("Message", id))
        return id
