"""The heartbeat of this process's owner leases (services/reply_leases.py): renew the leases of
the replies it runs, stop one whose lease a sweeper took, and fail replies whose process died."""

from __future__ import annotations

import asyncio
import logging

from pipeline import events as ev
from services.replies.publishing import Publisher
from services.replies.running import RunningReplies
from services.replies.tasks import stop_task
from services.reply_leases import REPLY_OWNER_LOST, LostReply, ReplyLeases

log = logging.getLogger("holomate.replies")


class LeaseKeeper:
    def __init__(self, leases: ReplyLeases, running: RunningReplies, publisher: Publisher) -> None:
        self.leases = leases
        self.running = running
        self.publisher = publisher
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep(), name="leases")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    async def _keep(self) -> None:
        """Each heartbeat: renew this process's leases, then end replies whose owner died."""
        while True:
            await asyncio.sleep(self.leases.heartbeat_s)
            try:
                for reply_id in await self.leases.renew(list(self.running)):
                    running = self.running.get(reply_id)
                    if running is not None:  # a sweeper already failed it: stop, say nothing
                        log.warning("reply %s: lease lost; stopping it", reply_id)
                        running.lost = True
                        running.control.interrupt(0)
                for lost in await self.leases.sweep():
                    await self._publish_owner_lost(lost)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the database may be away; try next heartbeat
                log.warning("reply lease heartbeat failed", exc_info=True)

    async def _publish_owner_lost(self, lost: LostReply) -> None:
        log.warning("reply %s: its process stopped renewing the lease; failed", lost.message_id)
        failed = ev.ReplyFailed(
            lost.message.error_code or REPLY_OWNER_LOST,
            "The server producing this reply stopped; send the message again",
            retryable=True,
        )
        await self.publisher.publish(lost.conversation_id, lost.message_id, failed)
