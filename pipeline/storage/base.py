"""Blob storage for audio and exports: keys are paths like ``users/<id>/audio/<msg>/<seq>.wav``."""

from __future__ import annotations

from typing import Protocol


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
