"""A Character Card export as its owner downloads it."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from services.character_cards import CardExport


@strawberry.enum(description="JSON: a V3 card. PNG: a picture carrying the V3 card and a V2 copy.")
class CharacterCardFormat(enum.Enum):
    JSON = "json"
    PNG = "png"


@strawberry.type(description="A card file written for download.")
class CharacterCardExport:
    url: str = strawberry.field(description="Signed download link, valid until expiresAt.")
    filename: str
    format: CharacterCardFormat
    expires_at: datetime

    @classmethod
    def from_export(cls, export: CardExport) -> CharacterCardExport:
        return cls(
            url=export.url,
            filename=export.filename,
            format=CharacterCardFormat(export.format),
            expires_at=export.expires_at,
        )
