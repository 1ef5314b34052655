"""``GET /media/{key}``: blobs behind HMAC-signed, expiring URLs (reply audio, data exports).

The signature is the only check: whoever holds an unexpired link may fetch it, as with any
pre-signed cloud URL, so links are short-lived and handed only to the owner. The signature is
checked before the disk, so without a valid link every key answers 403 and probing never
reveals which files exist.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from pipeline.storage.base import CACHE_CONTROL, content_type, download_name
from pipeline.storage.local import LocalBlobStorage
from services.errors import FORBIDDEN, NOT_FOUND


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status
    )


async def media(request: Request) -> Response:
    storage = request.app.state.holo.storage
    key: str = request.path_params["key"]
    exp = request.query_params.get("exp", "")
    sig = request.query_params.get("sig", "")
    # With a bucket (HOLOMATE_STORAGE=s3) links are the store's own: nothing is served here.
    if not isinstance(storage, LocalBlobStorage) or not storage.verify_signature(key, exp, sig):
        return _error(403, FORBIDDEN, "The link is invalid or has expired")
    try:
        path = storage.path_for(key)
    except ValueError:
        return _error(404, NOT_FOUND, "Not found")
    if not path.is_file():
        return _error(404, NOT_FOUND, "Not found")
    headers = {"cache-control": CACHE_CONTROL, "x-content-type-options": "nosniff"}
    name = download_name(key)  # a data export, an exported card
    if name is not None:
        headers["content-disposition"] = f'attachment; filename="{name}"'
    return FileResponse(path, media_type=content_type(key), headers=headers)
