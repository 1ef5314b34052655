"""importCharacterCard, exportCharacterCard."""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from context.request import Context
from context.state import AppState
from pipeline.cards.limits import MAX_FILE_BYTES
from pipeline.storage.base import BlobStorage
from schema import ids
from schema.types.character_card import CharacterCardExport, CharacterCardFormat
from schema.types.companion import Companion
from services import character_cards
from services.errors import BadUserInput


def _storage(app: AppState) -> BlobStorage:
    if app.storage is None:
        raise RuntimeError("blob storage is not configured")
    return app.storage


@strawberry.type
class CharacterCardMutation:
    @strawberry.mutation(
        description="A Character Card (V2 or V3; JSON, PNG or CharX, up to 8 MiB) becomes a "
        "new companion of the caller."
    )
    async def import_character_card(
        self, info: strawberry.Info[Context, None], file: Upload
    ) -> Companion:
        viewer = info.context.person()
        app = info.context.app
        try:
            # One byte past the limit is enough to refuse; the rest stays in the spooled file.
            raw: bytes = await file.read(MAX_FILE_BYTES + 1)  # type: ignore[attr-defined]
        finally:  # the spooled temporary file is not closed for us
            await file.close()  # type: ignore[attr-defined]
        if len(raw) > MAX_FILE_BYTES:
            raise BadUserInput(
                f"A card file may be at most {MAX_FILE_BYTES // (1024 * 1024)} MiB", field="file"
            )
        async with app.sessionmaker() as session:
            row = await character_cards.import_card(session, _storage(app), viewer, raw)
        return Companion.from_model(row)

    @strawberry.mutation(description="Write the companion as a card file at a signed URL.")
    async def export_character_card(
        self,
        info: strawberry.Info[Context, None],
        companion_id: strawberry.ID,
        format: CharacterCardFormat,
    ) -> CharacterCardExport:
        viewer = info.context.person()
        app = info.context.app
        async with app.sessionmaker() as session:
            export = await character_cards.export_card(
                session,
                _storage(app),
                viewer,
                ids.decode("Companion", companion_id),
                format.value,
                ttl_s=app.media_url_ttl_s,
                base_url=info.context.media_base_url,
            )
        return CharacterCardExport.from_export(export)
