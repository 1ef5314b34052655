"""Which conversation a hologram's voice session opens on.

A device speaks for its owner, but only with the companion assigned to it: the conversation it
names must be the owner's with that companion (another companion's: FORBIDDEN with reason
NOT_ASSIGNED_COMPANION; one the owner is not in: NOT_FOUND). Without one, the owner's latest
conversation with the assigned companion: a device has no screen to pick one on, and that is
the conversation its hologram is showing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import conversations
from services.devices import registry
from services.errors import Conflict, Forbidden, NotFound
from services.identity import Viewer
from store.models import Conversation, ConversationParticipant

NOT_ASSIGNED_COMPANION = "NOT_ASSIGNED_COMPANION"
NO_COMPANION = "NO_COMPANION_ASSIGNED"


async def device_conversation(
    session: AsyncSession, viewer: Viewer, conversation_id: int | None
) -> int:
    """The conversation a device's session opens on (checked for this device)."""
    device = await registry.own_device(session, viewer)
    companion_id = device.active_companion_id
    if companion_id is None:
        raise Conflict("Assign a companion to this device first", reason=NO_COMPANION)
    if conversation_id is not None:
        conversation = await conversations.get_visible(session, viewer, conversation_id)
        if conversation.companion_id != companion_id:
            raise Forbidden(
                "A device talks only with the companion assigned to it",
                reason=NOT_ASSIGNED_COMPANION,
            )
        return conversation.id
    latest = await session.scalar(
        select(Conversation.id)
        .join(ConversationParticipant, ConversationParticipant.conversation_id == Conversation.id)
        .where(
            Conversation.companion_id == companion_id,
            Conversation.archived_at.is_(None),
            ConversationParticipant.user_id == viewer.user_id,
        )
        .order_by(Conversation.last_message_at.desc().nulls_last(), Conversation.id.desc())
        .limit(1)
    )
    if latest is None:
        raise NotFound("Conversation")
    return latest
