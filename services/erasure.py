"""Erase an account: every row and blob of the person, in one transaction plus a folder delete.

Every table is cleared explicitly even where ``ON DELETE CASCADE`` would do it, so erasure does
not depend on SQLite's foreign-key pragma being on; a table added later with a cascading foreign
key to ``users`` is still covered by the final delete of the user row. In conversations owned
by someone else the person's messages stay as empty, author-less rows marked ``author_removed``:
replies keep pointing at them and others see "Removed user" instead of a hole in the thread.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline.storage.base import BlobStorage
from services.auth.policy import AuthPolicy
from services.errors import Unauthenticated
from services.privacy import DataExports
from store.metadata import event_log
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
    Message,
    PairingFailure,
    RefreshToken,
    User,
    UserPreference,
    VoiceProfile,
)


def user_prefix(user_id: int) -> str:
    return f"users/{user_id}"


async def check_password(
    session: AsyncSession, policy: AuthPolicy, user_id: int, password: str
) -> None:
    user = await session.get(User, user_id)
    if user is None or not await policy.passwords.verify(user.password_hash, password):
        raise Unauthenticated("Password is wrong", reason="BAD_CREDENTIALS")


async def erase_rows(session: AsyncSession, user_id: int) -> None:
    """Delete or anonymise everything of ``user_id``; the caller commits."""
    companions = select(Companion.id).where(Companion.owner_id == user_id)
    own_conversations = select(Conversation.id).where(Conversation.companion_id.in_(companions))
    await _erase_replay_log(session, user_id, companions, own_conversations)
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


async def _erase_replay_log(
    session: AsyncSession, user_id: int, companions: Any, own_conversations: Any
) -> None:
    """The live events kept for resume hold words too: drop the erased person's channels and,
    in others' conversations, the events carrying their messages (the SQL log; a Redis log
    ages out by its own length bound)."""
    conversation_ids = (await session.scalars(own_conversations)).all()
    companion_ids = (await session.scalars(companions)).all()
    suffixes = [f"conversation:{i}" for i in conversation_ids] + [
        f"companion:{i}" for i in companion_ids
    ]
    for suffix in suffixes:  # channels may carry a deployment namespace in front
        await session.execute(delete(event_log).where(event_log.c.channel.endswith(suffix)))
    await session.execute(
        delete(event_log).where(event_log.c.payload.contains(f'"author_id":{user_id},'))
    )


async def erase_blobs(storage: BlobStorage, user_id: int) -> int:
    return await storage.delete_prefix(user_prefix(user_id))


async def erase_account(
    sessionmaker: async_sessionmaker[AsyncSession],
    policy: AuthPolicy,
    storage: BlobStorage,
    exports: DataExports,
    user_id: int,
    password: str,
) -> None:
    """Check the password, then erase rows first and blobs second.

    Rows go first: if the blob delete then fails, nothing points at the files any more and a
    retry of the folder delete is safe; the other order could leave rows naming missing audio.
    """
    async with sessionmaker() as session:
        await check_password(session, policy, user_id, password)
    await exports.cancel_for(user_id)
    async with sessionmaker() as session:
        await erase_rows(session, user_id)
        await session.commit()
    policy.verified.forget_user(user_id)
    await erase_blobs(storage, user_id)
