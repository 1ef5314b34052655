"""Erase an account: every row of the person in one transaction, then their events in the
replay log (which may be Redis, outside that transaction), then their folder of blobs.

Every table is cleared explicitly even where ``ON DELETE CASCADE`` would do it, so erasure does
not depend on SQLite's foreign-key pragma being on; a table added later with a cascading foreign
key to ``users`` is still covered by the final delete of the user row. In conversations owned
by someone else the person's messages stay as empty, author-less rows marked ``author_removed``:
replies keep pointing at them and others see "Removed user" instead of a hole in the thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline.broadcast import EventHub, LogUnavailable
from pipeline.storage.base import BlobStorage
from services.auth.policy import AuthPolicy
from services.auth.revocations import ACCOUNT_DELETED, Ended
from services.channels import companion_channel, conversation_channel
from services.errors import Unauthenticated
from services.privacy import DataExports
from store.models import (
    AnimationSequence,
    BillingSubscription,
    CharacterAsset,
    Companion,
    Conversation,
    ConversationParticipant,
    DataExport,
    DevicePairing,
    HologramDevice,
    LorebookEntry,
    Memory,
    Message,
    PairingFailure,
    RefreshToken,
    User,
    UserPreference,
    VoiceProfile,
)

log = logging.getLogger(__name__)


def user_prefix(user_id: int) -> str:
    return f"users/{user_id}"


async def check_password(
    session: AsyncSession, policy: AuthPolicy, user_id: int, password: str
) -> None:
    user = await session.get(User, user_id)
    if user is None or not await policy.passwords.verify(user.password_hash, password):
        raise Unauthenticated("Password is wrong", reason="BAD_CREDENTIALS")


@dataclass(frozen=True)
class ReplayLogErasure:
    """What of the replay log goes with a person: the channels of what they owned, and in the
    conversations of others they joined or spoke in, their events (redacted in place, so the
    others' cursors there stay good)."""

    channels: list[str]
    scrub: list[str]
    marker: str

    async def apply(self, hub: EventHub) -> None:
        await hub.erase(self.channels, self.scrub, self.marker)


async def erase_rows(session: AsyncSession, user_id: int) -> ReplayLogErasure:
    """Delete or anonymise everything of ``user_id``; the caller commits, then applies the
    returned replay-log erasure (the log may live outside the database: Redis)."""
    companions = select(Companion.id).where(Companion.owner_id == user_id)
    own_conversations = select(Conversation.id).where(Conversation.companion_id.in_(companions))
    replay_log = await _replay_log_erasure(session, user_id, companions, own_conversations)
    # Others' conversations: keep the thread, drop the words and the name.
    await session.execute(
        update(Message)
        .where(Message.author_id == user_id)
        .values(author_id=None, author_removed=True, text="", audio=[], timings={})
    )
    await session.execute(
        update(Conversation).where(Conversation.created_by_id == user_id).values(created_by_id=None)
    )
    await session.execute(
        delete(ConversationParticipant).where(
            (ConversationParticipant.user_id == user_id)
            | ConversationParticipant.conversation_id.in_(own_conversations)
        )
    )
    await session.execute(delete(Message).where(Message.conversation_id.in_(own_conversations)))
    await session.execute(delete(Conversation).where(Conversation.id.in_(own_conversations)))
    await session.execute(
        update(HologramDevice)
        .where(HologramDevice.active_companion_id.in_(companions))
        .values(active_companion_id=None)
    )
    await session.execute(delete(LorebookEntry).where(LorebookEntry.companion_id.in_(companions)))
    # Theirs with any companion, and everyone's memories of their companions.
    await session.execute(
        delete(Memory).where((Memory.owner_id == user_id) | Memory.companion_id.in_(companions))
    )
    await session.execute(delete(Companion).where(Companion.owner_id == user_id))
    assets = select(CharacterAsset.id).where(CharacterAsset.owner_id == user_id)
    await session.execute(
        delete(AnimationSequence).where(AnimationSequence.character_asset_id.in_(assets))
    )
    for model in (CharacterAsset, VoiceProfile, HologramDevice):
        await session.execute(delete(model).where(model.owner_id == user_id))
    await session.execute(delete(DevicePairing).where(DevicePairing.owner_id == user_id))
    await session.execute(delete(PairingFailure).where(PairingFailure.user_id == user_id))
    for owned_by_user in (RefreshToken, UserPreference, BillingSubscription, DataExport):
        await session.execute(delete(owned_by_user).where(owned_by_user.user_id == user_id))
    await session.execute(delete(User).where(User.id == user_id))
    return replay_log


async def _replay_log_erasure(
    session: AsyncSession, user_id: int, companions: Any, own_conversations: Any
) -> ReplayLogErasure:
    """Read before the rows change: which messages were the person's is lost afterwards."""
    conversation_ids = (await session.scalars(own_conversations)).all()
    companion_ids = (await session.scalars(companions)).all()
    # Others' conversations where the person spoke, and their companions' channels: these now
    # carry only pointers, but entries logged before publish-once still hold copies of events.
    # Joined ones too: a voice session logs what was said even when no turn became a message.
    spoken_in = (
        await session.execute(
            select(Conversation.id, Conversation.companion_id).where(
                Conversation.id.in_(
                    select(Message.conversation_id).where(Message.author_id == user_id)
                )
                | Conversation.id.in_(
                    select(ConversationParticipant.conversation_id).where(
                        ConversationParticipant.user_id == user_id
                    )
                ),
                Conversation.id.not_in(own_conversations),
            )
        )
    ).all()
    return ReplayLogErasure(
        channels=[conversation_channel(i) for i in conversation_ids]
        + [companion_channel(i) for i in companion_ids],
        scrub=[conversation_channel(c) for c, _ in spoken_in]
        + [companion_channel(k) for k in sorted({k for _, k in spoken_in})],
        marker=author_marker(user_id),
    )


def author_marker(user_id: int) -> str:
    """The text in each logged event of the person (the one erasure redacts)."""
    return f'"author_id":{user_id},'


async def erase_blobs(storage: BlobStorage, user_id: int) -> int:
    return await storage.delete_prefix(user_prefix(user_id))


async def erase_account(
    sessionmaker: async_sessionmaker[AsyncSession],
    policy: AuthPolicy,
    storage: BlobStorage,
    exports: DataExports,
    user_id: int,
    password: str,
    hub: EventHub | None,
) -> None:
    """Check the password, then erase rows first, the replay log and blobs after.

    Rows go first: if the blob delete then fails, nothing points at the files any more and a
    retry of the folder delete is safe; the other order could leave rows naming missing audio.
    A replay log that cannot be reached then (Redis down) is logged: its entries age out (its
    length bound, an idle week), and the account is gone either way.
    """
    async with sessionmaker() as session:
        await check_password(session, policy, user_id, password)
    await exports.cancel_for(user_id)
    async with sessionmaker() as session:
        replay_log = await erase_rows(session, user_id)
        await session.commit()
    policy.verified.forget_user(user_id)
    # The row is gone, so its tokens are refused; every socket of the person closes, anywhere.
    ended = Ended(user_id=user_id, reason="Account deleted", cause=ACCOUNT_DELETED)
    await policy.revocations.end(ended, record=False)
    if hub is not None:
        try:
            await replay_log.apply(hub)
        except LogUnavailable:
            log.exception("erasing user %s: the replay log kept their events", user_id)
    await erase_blobs(storage, user_id)
