"""Errors a client can act on, each with the stable ``extensions.code`` of the API contract.

Every other exception is masked to the client as ``INTERNAL_SERVER_ERROR`` and logged with
the request id.
"""

from __future__ import annotations

from typing import Any

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
BAD_USER_INPUT = "BAD_USER_INPUT"
CONFLICT = "CONFLICT"
RATE_LIMITED = "RATE_LIMITED"
QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
# Protocol-level codes (requests that never reach a resolver).
BAD_REQUEST = "BAD_REQUEST"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
CURSOR_EXPIRED = "CURSOR_EXPIRED"
# An operation ran past HOLOMATE_OPERATION_TIMEOUT_S, or its answer past
# HOLOMATE_MAX_RESPONSE_BYTES: asking again the same way fails the same way.
OPERATION_TIMEOUT = "OPERATION_TIMEOUT"
RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"
# A dependency (database, shared state) is briefly unreachable: the client may retry.
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
# Documents by hash (services/trusted_documents.py): a hash the server does not know (the APQ
# clients' code: they resend the full document), and a document outside the trusted manifests.
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
DOCUMENT_NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"


class AppError(Exception):
    code: str = INTERNAL_SERVER_ERROR

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = {k: v for k, v in extensions.items() if v is not None}


class Unauthenticated(AppError):
    code = UNAUTHENTICATED

    def __init__(self, message: str = "Authentication required", **extensions: Any) -> None:
        super().__init__(message, **extensions)


class Forbidden(AppError):
    code = FORBIDDEN


class NotFound(AppError):
    """Also the answer for another user's ids, so existence never leaks."""

    code = NOT_FOUND

    def __init__(self, what: str = "Object") -> None:
        super().__init__(f"{what} not found")


class BadUserInput(AppError):
    code = BAD_USER_INPUT

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field)


class Conflict(AppError):
    code = CONFLICT


class RateLimited(AppError):
    code = RATE_LIMITED

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, retryAfter=retry_after_s)


class CursorExpired(AppError):
    code = CURSOR_EXPIRED

    def __init__(self) -> None:
        super().__init__("The cursor is older than the replay log keeps; reload the history")


class ServiceUnavailable(AppError):
    """The database (or another dependency) was unreachable for this request: retry shortly."""

    code = SERVICE_UNAVAILABLE

    def __init__(self, what: str = "The database") -> None:
        super().__init__(f"{what} is briefly unreachable; try again shortly", retryable=True)


class QuotaExceeded(AppError):
    code = QUOTA_EXCEEDED

    def __init__(self, limit: str, allowed: int, resets_at: str | None) -> None:
        super().__init__(
            f"Plan limit reached: {limit} ({allowed})",
            limit=limit,
            allowed=allowed,
            resetsAt=resets_at,
        )


class BadRequest(AppError):
    """The request itself is malformed (its JSON too deep or too big), whatever it asks."""

    code = BAD_REQUEST


class PersistedQueryNotFound(AppError):
    code = PERSISTED_QUERY_NOT_FOUND


class DocumentNotTrusted(AppError):
    code = DOCUMENT_NOT_TRUSTED


class QueryTooCostly(AppError):
    code = QUERY_TOO_COMPLEX

    def __init__(self, cost: int, max_cost: int) -> None:
        super().__init__(
            f"Query cost {cost} exceeds the maximum of {max_cost}: ask for smaller pages "
            "or fewer nested lists",
            cost=cost,
            maxCost=max_cost,
        )


class OperationTimeout(AppError):
    code = OPERATION_TIMEOUT

    def __init__(self, limit_s: float) -> None:
        super().__init__(
            f"The operation ran longer than {limit_s:g} s and was stopped",
            limitSeconds=limit_s,
            retryable=False,
        )


class ResponseTooLarge(AppError):
    code = RESPONSE_TOO_LARGE

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            f"The answer would be larger than {max_bytes} bytes: ask for smaller pages",
            maxBytes=max_bytes,
            retryable=False,
        )
