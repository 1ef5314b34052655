"""Ended sessions, shared by every process: the interface, and the one error it raises.

An entry is a session id (a login's refresh-token family). It needs to outlive only the access
tokens that carry it, so each entry expires after the ttl it was written with; the store never
grows beyond the sessions ended in the last access-token lifetime.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class RevocationsUnavailable(Exception):
    """The shared store could not be read or written (Redis down): callers fail closed."""


class RevocationStore(Protocol):
    async def revoke(self, session_ids: Sequence[str], ttl_s: float) -> None:
        """Remember ``session_ids`` as ended for ``ttl_s`` seconds."""

    async def is_revoked(self, session_id: str) -> bool:
        """True if the session was ended; raises ``RevocationsUnavailable``."""

    async def aclose(self) -> None: ...
