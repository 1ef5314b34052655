"""Registered documents in this process's memory: the most recently used few, bounded."""

from __future__ import annotations

from collections import OrderedDict


class MemoryDocumentStore:
    def __init__(self, max_documents: int = 1000) -> None:
        self._documents: OrderedDict[str, str] = OrderedDict()
        self._max = max_documents

    async def get(self, sha256: str) -> str | None:
        document = self._documents.get(sha256)
        if document is not None:
            self._documents.move_to_end(sha256)
        return document

    async def put(self, sha256: str, document: str) -> None:
        self._documents[sha256] = document
        self._documents.move_to_end(sha256)
        while len(self._documents) > self._max:
            self._documents.popitem(last=False)

    async def aclose(self) -> None:
        self._documents.clear()
