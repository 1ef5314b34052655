"""GraphQL enums: the store's Python enums, registered with Strawberry under the same names."""

from __future__ import annotations

import strawberry

from store.models import MessageRole, MessageStatus, ParticipantRole

for _enum in (MessageRole, MessageStatus, ParticipantRole):
    strawberry.enum(_enum)

__all__ = ["MessageRole", "MessageStatus", "ParticipantRole"]
