"""A "download my data" job as its owner watches it."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema import ids
from store.models import DataExport as DataExportRow
from store.models import ExportStatus

strawberry.enum(ExportStatus, name="DataExportStatus")


@strawberry.type(description="An archive of everything stored about the caller.")
class DataExport:
    id: strawberry.ID
    status: ExportStatus
    url: str | None = strawberry.field(
        description="Signed download link of the zip once READY; null after expiresAt."
    )
    expires_at: datetime | None = strawberry.field(description="When the download link stops.")
    created_at: datetime

    @classmethod
    def from_model(cls, row: DataExportRow, url: str | None) -> DataExport:
        return cls(
            id=strawberry.ID(ids.encode("DataExport", row.id)),
            status=row.status,
            url=url,
            expires_at=row.expires_at,
            created_at=row.created_at,
        )
