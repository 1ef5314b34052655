"""A person's live sessions on this process, and what erasing their account ends: their replies
(on every process) and their open subscriptions, then whatever caches hold of them."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from pipeline.broadcast.hub import EventHub
from pipeline.storage.base import BlobStorage
from services.replies.control import send_erase_user
from services.replies.running import RunningReplies

Closer = Callable[[], Awaitable[None]]
# The hook the erasure calls once a person's account is gone (resolvers/privacy.py, through
# AppState.on_user_erased): end everything live of theirs, on every process.
UserErased = Callable[[int], Awaitable[None]]
# Called on every process when an account is erased, after its sockets closed (caches of
# rendered events drop what they hold of the person).
ErasedHere = Callable[[int], None]


class LiveSessions:
    def __init__(
        self,
        hub: EventHub,
        running: RunningReplies,
        storage: BlobStorage,
        erased_here: list[ErasedHere],
    ) -> None:
        self.hub = hub
        self.running = running
        self.storage = storage
        self.erased_here = erased_here
        # Closers of live subscriptions, by person: erasing an account ends them on every process.
        self._closers: dict[int, set[Closer]] = {}

    def track(self, user_id: int, close: Closer) -> Callable[[], None]:
        """Register a live subscription's closer; returns the function that forgets it."""
        self._closers.setdefault(user_id, set()).add(close)

        def forget() -> None:
            closers = self._closers.get(user_id)
            if closers is not None:
                closers.discard(close)
                if not closers:
                    del self._closers[user_id]

        return forget

    async def user_erased(self, user_id: int) -> None:
        """Stop the person's replies and close their sockets on every process."""
        await self.end_user_here(user_id)
        await send_erase_user(self.hub, user_id)

    async def end_user_here(self, user_id: int) -> None:
        mine = self.running.owned_by(user_id)
        for reply_id, running in mine:
            await running.stop(0)
            self.running.discard(reply_id)
        if mine:  # audio a stopped reply wrote after the account's files were removed
            await self.storage.delete_prefix(f"users/{user_id}/")
        for close in list(self._closers.get(user_id, ())):
            with contextlib.suppress(Exception):  # one broken socket never keeps others open
                await close()
        for forget in self.erased_here:
            forget(user_id)
