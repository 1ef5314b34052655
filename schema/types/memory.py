"""What a companion remembers about the caller, as the memory view shows it."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from pipeline.events import MemorySnapshot
from schema import ids
from store.models import Memory as MemoryRow


@strawberry.enum(description="Where a memory came from.")
class MemoryOrigin(enum.Enum):
    EXTRACTED = "extracted"  # the offline extractor, from something the person said
    MODEL = "model"  # the language model, from something the person said
    PERSON = "person"  # rememberMemory, or edited by the person


@strawberry.type(description="A short fact a companion remembers about the caller.")
class Memory:
    id: strawberry.ID
    companion_id: strawberry.ID
    text: str
    kind: str = strawberry.field(
        description="name, like, dislike, allergy, diet, family, pet, work, place, date, age, "
        "plan or fact."
    )
    importance: float = strawberry.field(description="0 to 1; higher is recalled first.")
    origin: MemoryOrigin
    conversation_id: strawberry.ID | None = strawberry.field(
        description="The conversation it was formed in, if any."
    )
    message_id: strawberry.ID | None = strawberry.field(
        description="The person's message it was formed from, if any."
    )
    created_at: datetime
    updated_at: datetime
    last_recalled_at: datetime | None = strawberry.field(
        description="When a reply last had it in mind."
    )

    @classmethod
    def from_model(cls, row: MemoryRow) -> Memory:
        return cls(
            id=strawberry.ID(ids.encode("Memory", row.id)),
            companion_id=strawberry.ID(ids.encode("Companion", row.companion_id)),
            text=row.text,
            kind=row.kind,
            importance=row.importance,
            origin=MemoryOrigin(row.origin.value),
            conversation_id=_optional("Conversation", row.conversation_id),
            message_id=_optional("Message", row.message_id),
            created_at=row.created_at,
            updated_at=row.updated_at,
            last_recalled_at=row.last_recalled_at,
        )

    @classmethod
    def from_snapshot(cls, data: MemorySnapshot) -> Memory:
        """The memory as a ``MemoryFormed`` event carries it (pipeline/events.py)."""
        return cls(
            id=strawberry.ID(ids.encode("Memory", data.id)),
            companion_id=strawberry.ID(ids.encode("Companion", data.companion_id)),
            text=data.text,
            kind=data.kind,
            importance=data.importance,
            origin=MemoryOrigin(data.origin),
            conversation_id=_optional("Conversation", data.conversation_id),
            message_id=_optional("Message", data.message_id),
            created_at=data.created_at,
            updated_at=data.updated_at,
            last_recalled_at=data.last_recalled_at,
        )


def _optional(kind: str, pk: int | None) -> strawberry.ID | None:
    return None if pk is None else strawberry.ID(ids.encode(kind, pk))
