"""Conversations between a companion and one or more people, and their messages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services import companions, validation
from services.errors import Conflict, Forbidden, NotFound
from services.identity import Viewer
from store.base import utcnow
from store.models import (
    Conversation,
    ConversationParticipant,
    Message,
    ParticipantRole,
    User,
)


async def role_in(
    session: AsyncSession, conversation_id: int, user_id: int
) -> ParticipantRole | None:
    return await session.scalar(
        select(ConversationParticipant.role).where(
            ConversationParticipant.conversation_id == conversation_id,
            ConversationParticipant.user_id == user_id,
        )
    )


async def get_visible(session: AsyncSession, viewer: Viewer, conversation_id: int) -> Conversation:
    """A conversation the viewer takes part in; anything else is NOT_FOUND."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or await role_in(session, conversation_id, viewer.user_id) is None:
        raise NotFound("Conversation")
    return conversation


async def _get_owned(session: AsyncSession, viewer: Viewer, conversation_id: int) -> Conversation:
    conversation = await get_visible(session, viewer, conversation_id)
    if await role_in(session, conversation_id, viewer.user_id) != ParticipantRole.OWNER:
        raise Forbidden("Only the conversation's owner can do this")
    return conversation


async def start(
    session: AsyncSession, viewer: Viewer, companion_id: int, title: str | None
) -> Conversation:
    companion = await companions.get_owned(session, viewer, companion_id)
    clean_title = (
        validation.text(title or "", "title", max_len=200) or f"Chat with {companion.name}"
    )
    conversation = Conversation(
        companion_id=companion.id, created_by_id=viewer.user_id, title=clean_title
    )
    session.add(conversation)
    await session.flush()
    session.add(
        ConversationParticipant(
            conversation_id=conversation.id, user_id=viewer.user_id, role=ParticipantRole.OWNER
        )
    )
    # The companion's greeting is streamed as the first reply (ReplyService.greet).
    await session.commit()
    return conversation


async def rename(
    session: AsyncSession, viewer: Viewer, conversation_id: int, title: str
) -> Conversation:
    conversation = await _get_owned(session, viewer, conversation_id)
    conversation.title = validation.text(title, "title", min_len=1, max_len=200)
    await session.commit()
    return conversation


async def archive(
    session: AsyncSession, viewer: Viewer, conversation_id: int, archived: bool
) -> Conversation:
    conversation = await _get_owned(session, viewer, conversation_id)
    conversation.archived_at = utcnow() if archived else None
    await session.commit()
    return conversation


async def invite(
    session: AsyncSession, viewer: Viewer, conversation_id: int, email: str
) -> Conversation:
    conversation = await _get_owned(session, viewer, conversation_id)
    invitee = await session.scalar(select(User).where(User.email == validation.email(email)))
    if invitee is None:
        raise NotFound("User")
    if await role_in(session, conversation_id, invitee.id) is not None:
        raise Conflict("Already a participant", field="email")
    session.add(
        ConversationParticipant(
            conversation_id=conversation.id, user_id=invitee.id, role=ParticipantRole.MEMBER
        )
    )
    try:
        await session.commit()
    except IntegrityError as e:
        raise Conflict("Already a participant", field="email") from e
    return conversation


async def delete_message(session: AsyncSession, viewer: Viewer, message_id: int) -> Message:
    message = await session.get(Message, message_id)
    if message is None:
        raise NotFound("Message")
    role = await role_in(session, message.conversation_id, viewer.user_id)
    if role is None:
        raise NotFound("Message")
    if role != ParticipantRole.OWNER and message.author_id != viewer.user_id:
        raise Forbidden("Only the author or the conversation's owner can delete this message")
    await session.delete(message)
    await session.commit()
    return message
