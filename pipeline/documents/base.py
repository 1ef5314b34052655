"""Documents clients registered by hash (automatic persisted queries): the interface.

A registration is only a cache of text the client can send again: a lost or evicted entry
answers PERSISTED_QUERY_NOT_FOUND and the client resends the full document. So a store that
cannot be reached reads as empty and forgets writes; it never fails a request.
"""

from __future__ import annotations

from typing import Protocol


class DocumentStore(Protocol):
    async def get(self, sha256: str) -> str | None:
        """The document registered under this hash, or None."""

    async def put(self, sha256: str, document: str) -> None:
        """Remember ``document`` under its hash (the caller checked that it matches)."""

    async def aclose(self) -> None: ...
