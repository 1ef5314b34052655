"""exportMyData, dataExport, deleteMyAccount: the person's rights over their data."""

from __future__ import annotations

import strawberry

from context.request import Context
from schema import ids
from schema.types.privacy import DataExport
from services import erasure
from services.privacy import DataExports


def _exports(info: strawberry.Info[Context, None]) -> DataExports:
    exports = info.context.app.exports
    if exports is None:
        raise RuntimeError("data exports are not configured")
    return exports


@strawberry.type
class PrivacyQuery:
    @strawberry.field(description="A data export of the caller, to watch it until READY.")
    async def data_export(
        self, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> DataExport:
        viewer = info.context.person()
        exports = _exports(info)
        row = await exports.get(viewer.user_id, ids.decode("DataExport", id))
        return DataExport.from_model(row, exports.url_for(row))


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        description="Start an archive of everything stored about the caller; poll dataExport."
    )
    async def export_my_data(self, info: strawberry.Info[Context, None]) -> DataExport:
        viewer = info.context.person()
        exports = _exports(info)
        row = await exports.start(viewer.user_id)
        return DataExport.from_model(row, exports.url_for(row))

    @strawberry.mutation(
        description="Erase the caller's account and everything that is theirs. Cannot be undone."
    )
    async def delete_my_account(self, info: strawberry.Info[Context, None], password: str) -> bool:
        viewer = info.context.person()
        app = info.context.app
        if app.storage is None:
            raise RuntimeError("blob storage is not configured")
        await erasure.erase_account(
            app.sessionmaker,
            app.policy,
            app.storage,
            _exports(info),
            viewer.user_id,
            password,
            app.hub,
        )
        if app.on_user_erased is not None:  # the realtime layer closes the person's sockets
            await app.on_user_erased(viewer.user_id)
        return True
