"""Which GraphQL document a request runs: sent in full, or named by its sha256 hash.

The wire format is automatic persisted queries' (APQ), which Apollo, urql and Relay clients
already speak: ``extensions.persistedQuery = {"version": 1, "sha256Hash": "<64 hex>"}``,
with or without ``query``. Two sources of documents by hash:

- manifests, ``{sha256: document}`` JSON files the clients' builds emit (GraphQL Code
  Generator's persisted documents), loaded once at start;
- registrations: under the ``open`` policy, a client sending a hash *and* its document
  registers it (the APQ flow: hash alone -> not found -> hash and document -> hash alone).

Under ``trusted`` (production's default) only manifest documents run, by hash or in full (a
full document whose hash is listed), and nothing registers: a server that serves only its
own apps refuses every document those apps never ship, and parses no stranger's query.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from pipeline.documents.base import DocumentStore
from services.errors import BadRequest, BadUserInput, DocumentNotTrusted, PersistedQueryNotFound

DocumentPolicy = Literal["open", "trusted"]
_HASH = re.compile(r"[0-9a-f]{64}")
_SHAPE = 'extensions.persistedQuery must be {"version": 1, "sha256Hash": "<64 hex digits>"}'


def sha256_of(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8", "surrogatepass")).hexdigest()


def load_manifests(paths: Iterable[Path]) -> dict[str, str]:
    """Every ``{sha256: document}`` of these files, each entry checked against its hash, so a
    hand-edited or truncated manifest fails the start rather than one request in production."""
    documents: dict[str, str] = {}
    for path in paths:
        entries = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entries, dict):
            raise ValueError(f"{path}: a manifest is a JSON object of sha256 -> document")
        for key, document in entries.items():
            digest = key.lower().removeprefix("sha256:")  # the preset's default spelling
            if not isinstance(document, str) or sha256_of(document) != digest:
                raise ValueError(f"{path}: the document listed as {key} does not hash to it")
            documents[digest] = document
    return documents


class TrustedDocuments:
    def __init__(
        self, manifests: Mapping[str, str], policy: DocumentPolicy, store: DocumentStore
    ) -> None:
        self.manifests = dict(manifests)
        self.policy = policy
        self.store = store

    async def document(self, query: str | None, extensions: object) -> str | None:
        """The document to run for a request's ``query`` and ``extensions`` (as sent), or an
        ``AppError`` with the code saying why not (None: no document, as before)."""
        digest = _persisted_hash(extensions)
        if digest is None:
            if query is not None and self.policy == "trusted":
                self._check_trusted(sha256_of(query))
            return query
        if query is None:
            return await self._by_hash(digest)
        if sha256_of(query) != digest:
            raise BadUserInput(
                "The document does not hash to extensions.persistedQuery.sha256Hash",
                field="extensions.persistedQuery.sha256Hash",
            )
        if self.policy == "trusted":
            self._check_trusted(digest)
        elif digest not in self.manifests:
            await self.store.put(digest, query)
        return query

    async def _by_hash(self, digest: str) -> str:
        document = self.manifests.get(digest)
        if document is None and self.policy == "open":
            document = await self.store.get(digest)
        if document is None:
            # The message is the APQ clients' own word too (Apollo matches code or message).
            raise PersistedQueryNotFound(
                "PersistedQueryNotFound: no document is registered under this sha256Hash; "
                "send it again with its query",
                sha256Hash=digest,
            )
        return document

    def _check_trusted(self, digest: str) -> None:
        if digest not in self.manifests:
            raise DocumentNotTrusted(
                "This server runs only the documents of its registered clients "
                "(HOLOMATE_TRUSTED_DOCUMENTS); this one is not among them",
                sha256Hash=digest,
            )


def _persisted_hash(extensions: object) -> str | None:
    """The requested hash, lower-cased; None without ``persistedQuery``; BAD_REQUEST if bent."""
    if not isinstance(extensions, dict) or extensions.get("persistedQuery") is None:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict):
        raise BadRequest(_SHAPE)
    version = persisted.get("version")
    if type(version) is not int or version != 1:  # not True, not 1.0, not "1"
        raise BadRequest(_SHAPE)
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != 64 or not _HASH.fullmatch(digest.lower()):
        raise BadRequest(_SHAPE)
    return digest.lower()
