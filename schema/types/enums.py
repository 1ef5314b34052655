"""GraphQL enums mirrored from the store's Python enums."""

from __future__ import annotations

import strawberry

from store.models import MessageRole as _MessageRole
from store.models import MessageStatus as _MessageStatus
from store.models import ParticipantRole as _ParticipantRole

MessageRole = strawberry.enum(_MessageRole, name="MessageRole")
MessageStatus = strawberry.enum(_MessageStatus, name="MessageStatus")
ParticipantRole = strawberry.enum(_ParticipantRole, name="ParticipantRole")
