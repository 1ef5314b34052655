"""What a log line says about the work it came from: request id, operation, hashed user.

Held in a context variable, so a line logged deep in a service, or in the reply's background
task (which copied the request's context), still names its request and operation. The user is
a keyed hash: lines of one person correlate, yet a log leak does not list account ids.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from contextvars import ContextVar, Token

Fields = Mapping[str, str]

_fields: ContextVar[Fields | None] = ContextVar("holomate_log_fields", default=None)


def current() -> Fields:
    return _fields.get() or {}


def bind(**fields: str) -> Token[Fields | None]:
    """Add fields for the rest of this context; ``unbind`` with the token restores the last."""
    return _fields.set({**current(), **fields})


def unbind(token: Token[Fields | None]) -> None:
    _fields.reset(token)


def user_hash(user_id: int, key: bytes) -> str:
    return hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()[:16]
