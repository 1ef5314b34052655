"""DataLoaders, made lazily per request (or per subscription event), one short session per batch.

Strawberry resolves sibling fields concurrently and one AsyncSession cannot be shared across
tasks, so each batch opens its own session.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from services import character_cards
from services.paging import Page, PageArgs, paginate_many
from store.models import (
    CharacterAsset,
    Companion,
    Conversation,
    ConversationParticipant,
    Message,
    User,
    UserPreference,
    VoiceProfile,
)

M = TypeVar("M")
ConversationPageKey = tuple[int, int, PageArgs]  # (companion_id, viewer_id, args)
MessagePageKey = tuple[int, PageArgs]


class Loaders:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sm = sessionmaker
        self._cache: dict[str, DataLoader[Any, Any]] = {}

    def _get(self, name: str, batch: Callable[[list[Any]], Awaitable[Sequence[Any]]]) -> Any:
        loader = self._cache.get(name)
        if loader is None:
            loader = self._cache[name] = DataLoader(load_fn=batch)
        return loader

    def _by_id(self, model: type[M]) -> DataLoader[int, M | None]:
        async def batch(ids: list[int]) -> list[M | None]:
            async with self._sm() as session:
                rows = (await session.scalars(select(model).where(model.id.in_(ids)))).all()  # type: ignore[attr-defined]
            found = {row.id: row for row in rows}  # type: ignore[attr-defined]
            return [found.get(i) for i in ids]

        loader: DataLoader[int, M | None] = self._get(f"by_id:{model.__name__}", batch)
        return loader

    @property
    def user_by_id(self) -> DataLoader[int, User | None]:
        return self._by_id(User)

    @property
    def companion_by_id(self) -> DataLoader[int, Companion | None]:
        return self._by_id(Companion)

    @property
    def voice_profile_by_id(self) -> DataLoader[int, VoiceProfile | None]:
        return self._by_id(VoiceProfile)

    @property
    def character_asset_by_id(self) -> DataLoader[int, CharacterAsset | None]:
        return self._by_id(CharacterAsset)

    @property
    def lorebook_count_by_companion_id(self) -> DataLoader[int, int]:
        async def batch(ids: list[int]) -> list[int]:
            async with self._sm() as session:
                found = await character_cards.count_entries(session, ids)
            return [found.get(i, 0) for i in ids]

        loader: DataLoader[int, int] = self._get("lorebook_count", batch)
        return loader

    @property
    def preferences_by_user_id(self) -> DataLoader[int, UserPreference | None]:
        async def batch(ids: list[int]) -> list[UserPreference | None]:
            async with self._sm() as session:
                rows = (
                    await session.scalars(
                        select(UserPreference).where(UserPreference.user_id.in_(ids))
                    )
                ).all()
            found = {row.user_id: row for row in rows}
            return [found.get(i) for i in ids]

        loader: DataLoader[int, UserPreference | None] = self._get("prefs", batch)
        return loader

    @property
    def participants_by_conversation_id(
        self,
    ) -> DataLoader[int, list[ConversationParticipant]]:
        async def batch(ids: list[int]) -> list[list[ConversationParticipant]]:
            async with self._sm() as session:
                rows = (
                    await session.scalars(
                        select(ConversationParticipant)
                        .where(ConversationParticipant.conversation_id.in_(ids))
                        .order_by(ConversationParticipant.joined_at)
                    )
                ).all()
            grouped: dict[int, list[ConversationParticipant]] = defaultdict(list)
            for row in rows:
                grouped[row.conversation_id].append(row)
            return [grouped.get(i, []) for i in ids]

        loader: DataLoader[int, list[ConversationParticipant]] = self._get("participants", batch)
        return loader

    @property
    def conversation_page_by_companion(
        self,
    ) -> DataLoader[ConversationPageKey, Page[Conversation]]:
        async def batch(keys: list[ConversationPageKey]) -> list[Page[Conversation]]:
            results: dict[ConversationPageKey, Page[Conversation]] = {}
            groups: dict[tuple[int, PageArgs], list[int]] = defaultdict(list)
            for companion_id, viewer_id, args in keys:
                groups[(viewer_id, args)].append(companion_id)
            async with self._sm() as session:
                for (viewer_id, args), companion_ids in groups.items():
                    visible = select(ConversationParticipant.conversation_id).where(
                        ConversationParticipant.user_id == viewer_id
                    )
                    pages = await paginate_many(
                        session,
                        Conversation,
                        Conversation.companion_id,
                        companion_ids,
                        args,
                        newest_first=True,
                        where=[Conversation.id.in_(visible)],
                    )
                    for companion_id, page in pages.items():
                        results[(companion_id, viewer_id, args)] = page
            return [results[key] for key in keys]

        loader: DataLoader[ConversationPageKey, Page[Conversation]] = self._get(
            "conversation_pages", batch
        )
        return loader

    @property
    def message_page_by_conversation(self) -> DataLoader[MessagePageKey, Page[Message]]:
        async def batch(keys: list[MessagePageKey]) -> list[Page[Message]]:
            results: dict[MessagePageKey, Page[Message]] = {}
            groups: dict[PageArgs, list[int]] = defaultdict(list)
            for conversation_id, args in keys:
                groups[args].append(conversation_id)
            async with self._sm() as session:
                for args, conversation_ids in groups.items():
                    pages = await paginate_many(
                        session, Message, Message.conversation_id, conversation_ids, args
                    )
                    for conversation_id, page in pages.items():
                        results[(conversation_id, args)] = page
            return [results[key] for key in keys]

        loader: DataLoader[MessagePageKey, Page[Message]] = self._get("message_pages", batch)
        return loader
