"""The replies this process is producing, by id: what barge-in, erasure, the lease keeper and
shutdown reach them through."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.reply import ReplyControl


@dataclass(slots=True)
class RunningReply:
    control: ReplyControl
    task: asyncio.Task[None]
    owner_id: int  # whose files its audio is: the companion's owner
    lost: bool = False  # its lease was taken over: a sweeper has published its end

    async def stop(self, heard_until_ms: int, timeout_s: float = 5) -> None:
        """Interrupt it and wait (bounded) until it saved its end; the wait being cancelled
        never cancels the reply itself."""
        self.control.interrupt(heard_until_ms)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(asyncio.shield(self.task), timeout_s)


class RunningReplies:
    """Each reply is in here from its launch until its task ends."""

    def __init__(self) -> None:
        self._by_id: dict[int, RunningReply] = {}

    def __contains__(self, reply_id: int) -> bool:
        return reply_id in self._by_id

    def __iter__(self) -> Iterator[int]:
        return iter(list(self._by_id))

    def get(self, reply_id: int) -> RunningReply | None:
        return self._by_id.get(reply_id)

    def add(self, reply_id: int, running: RunningReply) -> None:
        self._by_id[reply_id] = running
        running.task.add_done_callback(lambda _: self._by_id.pop(reply_id, None))

    def discard(self, reply_id: int) -> None:
        self._by_id.pop(reply_id, None)

    def all(self) -> list[RunningReply]:
        return list(self._by_id.values())

    def owned_by(self, user_id: int) -> list[tuple[int, RunningReply]]:
        return [(rid, r) for rid, r in self._by_id.items() if r.owner_id == user_id]
