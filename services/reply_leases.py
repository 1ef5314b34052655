"""Owner leases of streaming replies: a reply whose process died ends within seconds.

The rule that keeps a message from staying STREAMING for good: a companion message is created
STREAMING together with its lease (``lease_owner``, ``lease_expires_at``, in the same INSERT);
its process renews every lease it holds each heartbeat (one UPDATE); and whoever ends the reply,
its owner or a sweeper, does so with ``UPDATE ... WHERE status = STREAMING``, so exactly one
writer wins and only the winner publishes the terminal event.

Every process sweeps each heartbeat: a reply still STREAMING whose lease expired (its process was
killed, or lost the database longer than a lease) becomes FAILED with ``REPLY_OWNER_LOST``
(retryable: sending the message again works). A process that finds a lease of its own gone (it
was frozen longer than a lease) stops that reply; the sweeper's ReplyFailed stands.

Leases compare wall clocks of different processes: hosts must agree within a second or so (NTP).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.base import utcnow
from store.models import Message, MessageStatus

log = logging.getLogger("holomate.replies")

REPLY_OWNER_LOST = "REPLY_OWNER_LOST"
SWEEP_BATCH = 100


def process_owner_id() -> str:
    """Unique per process (a pid can be reused by a later process on the same host)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class LostReply:
    """A reply a sweep ended: its row as saved, for the ReplyFailed event."""

    conversation_id: int
    message_id: int
    message: Message


@dataclass(slots=True)
class ReplyLeases:
    sessionmaker: async_sessionmaker[AsyncSession]
    lease_s: float = 6.0
    heartbeat_s: float = 2.0
    owner: str = field(default_factory=process_owner_id)

    def claim(self, now: datetime | None = None) -> dict[str, Any]:
        """Column values for a reply row this process is about to produce."""
        return {
            "lease_owner": self.owner,
            "lease_expires_at": (now or utcnow()) + timedelta(seconds=self.lease_s),
        }

    async def renew(self, message_ids: Collection[int]) -> set[int]:
        """Extend this process's leases; return the ids a sweeper ended meanwhile."""
        ids = set(message_ids)
        if not ids:
            return set()
        async with self.sessionmaker() as session:
            renewed = await session.execute(
                update(Message)
                .where(
                    Message.id.in_(ids),
                    Message.status == MessageStatus.STREAMING,
                    Message.lease_owner == self.owner,
                )
                .values(lease_expires_at=utcnow() + timedelta(seconds=self.lease_s))
            )
            await session.commit()
            if renewed.rowcount == len(ids):  # type: ignore[attr-defined]
                return set()
            # Ended by a sweeper: it keeps the owner's name (an owner's own end clears it, and a
            # deleted reply has no row).
            taken = await session.scalars(
                select(Message.id).where(
                    Message.id.in_(ids),
                    Message.status != MessageStatus.STREAMING,
                    Message.lease_owner == self.owner,
                )
            )
            return set(taken)

    async def sweep(self) -> list[LostReply]:
        """Fail the replies whose owner stopped renewing; return those this process won."""
        now = utcnow()
        async with self.sessionmaker() as session:
            expired = (
                await session.execute(
                    select(Message.id, Message.conversation_id)
                    .where(
                        Message.lease_expires_at < now,
                        Message.status == MessageStatus.STREAMING,
                    )
                    .limit(SWEEP_BATCH)
                )
            ).all()
        lost: list[LostReply] = []
        for message_id, conversation_id in expired:
            async with self.sessionmaker() as session:
                # Write first and only if still expired: another sweeper or a late renewal
                # may have got there in between; exactly one UPDATE matches.
                won = await session.execute(
                    update(Message)
                    .where(
                        Message.id == message_id,
                        Message.status == MessageStatus.STREAMING,
                        Message.lease_expires_at < now,
                    )
                    .values(
                        status=MessageStatus.FAILED,
                        error_code=REPLY_OWNER_LOST,
                        completed_at=utcnow(),
                        lease_expires_at=None,
                    )
                )
                await session.commit()
                if not won.rowcount:  # type: ignore[attr-defined]
                    continue
                row = await session.get_one(Message, message_id)
                lost.append(LostReply(conversation_id, message_id, row))
        return lost
