"""Give every GraphQL error a stable ``extensions.code``; mask and log the unexpected ones."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from pipeline.broadcast.errors import LogUnavailable
from pipeline.errors import ProviderError
from services import errors as codes
from services.errors import AppError, ServiceUnavailable
from store.db import connection_lost

log = logging.getLogger("holomate.errors")

_STATES = {"PROVIDER_UNAVAILABLE": "not answering", "PROVIDER_RATE_LIMITED": "busy"}
_TOO_COMPLEX = (
    "exceeds maximum operation depth",
    "aliases found",
    "directives found",
    "tokens. Parsing aborted",
    "Maximum introspection depth exceeded",
)


def classify(error: GraphQLError, request_id: str) -> GraphQLError:
    original = error.original_error
    if isinstance(original, AppError):
        return _with(error, error.message, {"code": original.code, **original.extensions})
    if isinstance(original, ProviderError) and original.retryable:
        # An outage or rate limit of Stripe, OpenAI, ElevenLabs: the client can try again.
        log.warning("%s (request %s)", original, request_id)
        return _with(
            error,
            f"The {original.provider} service is {_STATES.get(original.code, 'failing')}; "
            "try again shortly",
            {"code": original.code, "provider": original.provider, "retryable": True},
        )
    if connection_lost(original):  # database restarted or unreachable: the client may retry
        log.warning("database unreachable (request %s): %r", request_id, original)
        unavailable = ServiceUnavailable()
        extensions = {"code": unavailable.code, **unavailable.extensions}
        return _with(error, unavailable.message, extensions)
    if isinstance(original, LogUnavailable):  # the replay log (Redis) restarting: retry shortly
        log.warning("replay log unreachable (request %s): %s", request_id, original)
        unavailable = ServiceUnavailable("The replay log")
        extensions = {"code": unavailable.code, **unavailable.extensions}
        return _with(error, unavailable.message, extensions)
    if original is None or (isinstance(original, GraphQLError) and original.original_error is None):
        message = error.message
        extra: dict[str, Any] = {}
        if any(marker in message for marker in _TOO_COMPLEX):
            code = codes.QUERY_TOO_COMPLEX
        elif message.startswith("Syntax Error"):
            code = codes.GRAPHQL_PARSE_FAILED
        elif message.startswith("Variable '$"):
            code = codes.BAD_USER_INPUT
            extra["field"] = message.split("'$", 1)[1].split("'", 1)[0]
        else:
            code = codes.GRAPHQL_VALIDATION_FAILED
        return _with(error, message, {**(error.extensions or {}), **extra, "code": code})
    log.error(
        "unexpected error in %s (request %s)",
        ".".join(str(p) for p in error.path or []) or "operation",
        request_id,
        exc_info=original,
    )
    return _with(
        error,
        "Internal server error",
        {"code": codes.INTERNAL_SERVER_ERROR, "requestId": request_id},
    )


def _with(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def classify_in_place(errors: list[GraphQLError], context: Any) -> None:
    """Rewrite errors where they stand: Strawberry hands us the very list it will send."""
    request_id = getattr(context, "request_id", "-") if context is not None else "-"
    errors[:] = [classify(e, request_id) for e in errors]
