"""Blob storage for audio and exports: keys are paths like ``users/<id>/audio/<msg>/<seq>.wav``.

Two providers: ``local.LocalBlobStorage`` (files, served by the web layer at ``/media``) and
``s3.S3BlobStorage`` (a bucket; clients fetch its presigned URLs directly). A key is a relative
path of plain segments, checked by both, and a prefix names a folder (``users/1`` never
matches ``users/10``).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Protocol

# What each kind of blob is served as, by its key's suffix.
CONTENT_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".zip": "application/zip",
    ".json": "application/json",
    ".png": "image/png",  # companion pictures and exported character cards
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}
# Blobs are never rewritten under one key by a client-facing path, but links expire: a short
# private cache lets a player re-fetch without keeping a stale file for long.
CACHE_CONTROL = "private, max-age=300"


class BlobStorage(Protocol):
    async def put(self, key: str, data: bytes, mime_type: str) -> None: ...

    async def get(self, key: str) -> bytes:
        """Raise ``KeyError`` when absent."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every key under ``prefix``; return how many were removed."""
        ...

    async def list_prefix(self, prefix: str) -> list[str]: ...

    def signed_url(self, key: str, expires_in_s: int) -> str:
        """A URL (absolute or server-relative) that serves the blob until it expires."""
        ...


def check_key(key: str, *, allow_empty: bool = False) -> str:
    """``key`` if it is a relative path of plain segments (no ``..``, ``.``, empty segments,
    backslashes, colons or absolute paths), else ``ValueError``."""
    if key == "" and allow_empty:
        return key
    if not key or key.startswith("/") or "\\" in key or "\0" in key or ":" in key:
        raise ValueError(f"invalid storage key: {key!r}")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


def content_type(key: str) -> str:
    return CONTENT_TYPES.get(PurePosixPath(key).suffix.lower(), "application/octet-stream")


def download_name(key: str) -> str | None:
    """The file name a browser should save the blob as (a data export, an exported character
    card), or None for what is played or shown inline (audio, pictures)."""
    path = PurePosixPath(key)
    if path.suffix.lower() == ".zip" or path.parent.name == "card":
        return path.name
    return None


def public_url(base_url: str, signed: str) -> str:
    """A signed URL as a client may fetch it: server-relative ones (``/media/...``) start at the
    server's public address; absolute ones (a bucket's presigned URLs) stand alone."""
    if "://" in signed:
        return signed
    return base_url.rstrip("/") + signed
