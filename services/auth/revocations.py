"""Ending sessions at once, on every process: the shared revocation set, and live sockets.

A session is a login (its refresh-token family, the ``sid`` of its access tokens) or a
device. Ending sessions does three things, in this order:

1. ``record``: the session ids go into the shared store (memory, or Redis across processes)
   for as long as an access token naming them could live. Logout and refresh-token theft need
   this: nothing else on the access path knows a family ended. Password changes, unpairing and
   erasure change rows the access path already reads (token version, device, account), so they
   skip it and keep working while Redis is down.
2. This process forgets its memo of those tokens, ends what else they hold (``on_ended``:
   voice sessions) and closes their sockets.
3. A message on ``SESSIONS_ENDED`` makes every other process do step 2.

A check that cannot reach the store refuses the request (``SERVICE_UNAVAILABLE``, retryable):
letting a possibly revoked token in is the worse failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pipeline.broadcast.hub import EventHub
from pipeline.broadcast.listen import listen_forever
from pipeline.broadcast.log_base import LogEntry
from pipeline.revocation.base import RevocationStore, RevocationsUnavailable
from services.auth.cache import VerifiedTokens
from services.channels import SESSIONS_ENDED
from services.errors import ServiceUnavailable, Unauthenticated
from services.identity import Viewer

log = logging.getLogger("holomate.sessions")

SESSION_ENDED_CLOSE = 4401  # as an expired token: the client re-authenticates
SESSION_ENDED_REASON = "Session ended"
# Causes: logout, password change, a leaked refresh token; a device unpaired; an account erased.
SESSION_ENDED = "SESSION_ENDED"
DEVICE_UNPAIRED = "DEVICE_UNPAIRED"
ACCOUNT_DELETED = "ACCOUNT_DELETED"

Closer = Callable[[int, str], Awaitable[None]]
# Told of every ending heard on this process, before its sockets close (voice sessions end).
OnEnded = Callable[["Ended"], None]


@dataclass(frozen=True, slots=True)
class Ended:
    """Which sockets to close, and how: some sessions, or every session of one account."""

    session_ids: frozenset[str] = frozenset()
    user_id: int | None = None
    code: int = SESSION_ENDED_CLOSE
    reason: str = SESSION_ENDED_REASON
    cause: str = SESSION_ENDED  # a stable code, for what else ends with them (voice sessions)

    def covers(self, viewer: Viewer) -> bool:
        return viewer.session_id in self.session_ids or viewer.user_id == self.user_id

    def encode(self) -> str:
        return json.dumps(
            {
                "sids": sorted(self.session_ids),
                "user": self.user_id,
                "code": self.code,
                "reason": self.reason,
                "cause": self.cause,
            }
        )

    @classmethod
    def decode(cls, payload: str) -> Ended:
        data = json.loads(payload)
        user = data.get("user")
        return cls(
            session_ids=frozenset(str(s) for s in data.get("sids", ())),
            user_id=None if user is None else int(user),
            code=int(data.get("code", SESSION_ENDED_CLOSE)),
            reason=str(data.get("reason", SESSION_ENDED_REASON)),
            cause=str(data.get("cause", SESSION_ENDED)),
        )


@dataclass(eq=False, slots=True)
class _Socket:
    viewer: Viewer
    close: Closer


@dataclass(slots=True)
class Revocations:
    store: RevocationStore
    verified: VerifiedTokens
    record_ttl_s: float  # the longest an access token lives
    hub: EventHub | None = None
    on_ended: list[OnEnded] = field(default_factory=list)
    _sockets: set[_Socket] = field(default_factory=set)
    # Counts endings heard here: a socket checked before one and tracked after it checks again.
    ended: int = 0
    _listener: asyncio.Task[None] | None = None

    # ---- checking -----------------------------------------------------------------------

    async def check(self, session_id: str) -> None:
        if not session_id:
            return
        try:
            revoked = await self.store.is_revoked(session_id)
        except RevocationsUnavailable as e:
            log.warning("session check failed, request refused: %s", e)
            raise ServiceUnavailable("The session store") from e
        if revoked:
            raise Unauthenticated("Session ended", reason="TOKEN_REVOKED")

    # ---- ending -------------------------------------------------------------------------

    async def end(self, ended: Ended, *, record: bool) -> None:
        """End sessions everywhere; raises ``ServiceUnavailable`` if ``record`` fails (the
        sockets and memos are still ended, so a retry only has the record left to do)."""
        failure: RevocationsUnavailable | None = None
        if record and ended.session_ids:
            try:
                await self.store.revoke(sorted(ended.session_ids), self.record_ttl_s)
            except RevocationsUnavailable as e:
                log.error("could not record ended sessions %s: %s", sorted(ended.session_ids), e)
                failure = e
        await self._end_here(ended)
        if self.hub is not None:
            try:
                await self.hub.publish(SESSIONS_ENDED, ended.encode())
            except Exception:  # noqa: BLE001 - the memo's 1 s bound still holds elsewhere
                log.exception("could not tell other processes that sessions ended")
        if failure is not None:
            raise ServiceUnavailable("The session store") from failure

    async def _end_here(self, ended: Ended) -> None:
        self.ended += 1
        if ended.session_ids:
            self.verified.forget_sessions(set(ended.session_ids))
        if ended.user_id is not None:
            self.verified.forget_user(ended.user_id)
        for hook in self.on_ended:
            try:
                hook(ended)
            except Exception:  # noqa: BLE001 - the sockets still close
                log.exception("a hook failed on ended sessions")
        for socket in [s for s in self._sockets if ended.covers(s.viewer)]:
            self._sockets.discard(socket)
            with contextlib.suppress(Exception):
                await socket.close(ended.code, ended.reason)

    # ---- live sockets ---------------------------------------------------------------------

    def track(self, viewer: Viewer, close: Closer) -> Callable[[], None]:
        """Register an authenticated socket; returns the function that forgets it."""
        socket = _Socket(viewer, close)
        self._sockets.add(socket)
        return lambda: self._sockets.discard(socket)

    @property
    def open_sockets(self) -> int:
        return len(self._sockets)

    # ---- every process hears every ending -------------------------------------------------

    async def start(self, hub: EventHub) -> None:
        self.hub = hub
        ready = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(hub, ready), name="sessions-ended")
        await ready.wait()

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.store.aclose()

    async def _listen(self, hub: EventHub, ready: asyncio.Event) -> None:
        async def handle(entry: LogEntry) -> None:
            await self._end_here(Ended.decode(entry.payload))

        await listen_forever(hub, SESSIONS_ENDED, handle, ready, log, "sessions-ended")
