"""Documents by hash on every transport: the registry the settings describe, and where each
transport swaps a request's hash for its document before anything reads ``query``.

HTTP (GET and POST) swaps in the view's ``parse_http_body``; the WebSocket in each protocol
handler's ``handle_message``, before the protocol checks, the operation budget (which reads
the document: ``api.voice_chunk_ops``) and Strawberry's own handling. Refusals carry their
code (services/trusted_documents.py): over HTTP a 400, on a socket an ``error`` for that
operation alone.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLFormattedError
from strawberry.http import GraphQLRequestData

from api.settings import Settings
from pipeline.documents.factory import make_document_store
from services.errors import AppError
from services.trusted_documents import TrustedDocuments, load_manifests

log = logging.getLogger("holomate.documents")


def build_documents(settings: Settings) -> TrustedDocuments:
    manifests = load_manifests(settings.trusted_document_paths)
    policy = settings.documents_policy
    if policy == "trusted" and not manifests:
        log.warning(
            "HOLOMATE_DOCUMENTS=trusted with no manifest (HOLOMATE_TRUSTED_DOCUMENTS): "
            "every GraphQL document will be refused"
        )
    store = make_document_store(settings.shared_state, settings.broadcast_namespace)
    return TrustedDocuments(manifests, policy, store)


async def swap_in_http(
    documents: TrustedDocuments, data: GraphQLRequestData | list[GraphQLRequestData]
) -> None:
    """Each request of a body (or batch) with its document in ``query``; raises ``AppError``."""
    for item in data if isinstance(data, list) else [data]:
        item.query = await documents.document(item.query, item.extensions)


async def refusal_for_payload(
    documents: TrustedDocuments, payload: Any
) -> GraphQLFormattedError | None:
    """Puts the document of a socket's subscribe/start ``payload`` in its ``query``; or the
    error to answer that operation with. A payload of the wrong shape is left as it is, for
    the protocol checks to refuse as before."""
    if not isinstance(payload, dict):
        return None
    query = payload.get("query")
    if query is not None and not isinstance(query, str):
        return None
    try:
        document = await documents.document(query, payload.get("extensions"))
    except AppError as e:
        return {"message": e.message, "extensions": {"code": e.code, **e.extensions}}
    if document is not None:
        payload["query"] = document
    return None
