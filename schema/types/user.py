"""People: the caller's own profile and the public face of other participants."""

from __future__ import annotations

from datetime import datetime

import strawberry

from context.request import Context
from schema import ids
from store.models import User as UserRow
from store.models import UserPreference as PreferenceRow


@strawberry.type(description="The caller's preferences, used to shape every reply.")
class Preferences:
    preferred_name: str | None
    language: str
    reply_length: str = strawberry.field(description="short, medium or long")
    voice_enabled: bool
    topics_to_avoid: list[str]

    @classmethod
    def from_model(cls, row: PreferenceRow) -> Preferences:
        return cls(
            preferred_name=row.preferred_name,
            language=row.language,
            reply_length=row.reply_length,
            voice_enabled=row.voice_enabled,
            topics_to_avoid=list(row.topics_to_avoid or []),
        )


@strawberry.type(description="The signed-in person.")
class User:
    row: strawberry.Private[UserRow]
    id: strawberry.ID
    email: str
    display_name: str
    created_at: datetime

    @strawberry.field
    async def preferences(self, info: strawberry.Info[Context, None]) -> Preferences:
        row = await info.context.loaders.preferences_by_user_id.load(self.row.id)
        if row is None:
            return Preferences.from_model(
                PreferenceRow(
                    user_id=self.row.id,
                    language="en",
                    reply_length="medium",
                    voice_enabled=True,
                    topics_to_avoid=[],
                )
            )
        return Preferences.from_model(row)

    @classmethod
    def from_model(cls, row: UserRow) -> User:
        return cls(
            row=row,
            id=strawberry.ID(ids.encode("User", row.id)),
            email=row.email,
            display_name=row.display_name,
            created_at=row.created_at,
        )


@strawberry.type(description="Another person as participants see them: name only.")
class PublicUser:
    id: strawberry.ID
    display_name: str
    removed: bool = False

    @classmethod
    def from_model(cls, row: UserRow | None) -> PublicUser:
        if row is None:
            return cls(id=strawberry.ID("usr_removed"), display_name="Removed user", removed=True)
        return cls(id=strawberry.ID(ids.encode("User", row.id)), display_name=row.display_name)
