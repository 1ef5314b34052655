"""Pick the registered-documents store from the shared-state URL (``memory://`` or ``redis://``)."""

from __future__ import annotations

from pipeline.documents.base import DocumentStore
from pipeline.documents.memory import MemoryDocumentStore
from pipeline.shared_state import is_redis


def make_document_store(url: str, namespace: str = "") -> DocumentStore:
    if is_redis(url, "document store"):
        from pipeline.documents.redis_store import RedisDocumentStore

        return RedisDocumentStore.from_url(url, namespace)
    return MemoryDocumentStore()
