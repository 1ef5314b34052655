"""People, companions and memories written straight to the test database (recall's inputs)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from store.db import make_engine, make_sessionmaker
from store.models import Companion, Memory, MemoryOrigin, User


@asynccontextmanager
async def db_session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def person(session: AsyncSession, name: str = "Ada") -> User:
    user = User(
        email=f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com",
        display_name=name,
        password_hash="x",
    )
    session.add(user)
    await session.flush()
    return user


async def companion(session: AsyncSession, owner: User, name: str = "Nova") -> Companion:
    row = Companion(owner_id=owner.id, name=name, traits=[])
    session.add(row)
    await session.flush()
    return row


async def memory(
    session: AsyncSession,
    owner: User,
    companion_row: Companion,
    text: str,
    *,
    importance: float = 0.5,
    topic: str | None = None,
    when: datetime | None = None,
) -> Memory:
    row = Memory(
        owner_id=owner.id,
        companion_id=companion_row.id,
        text=text,
        kind="fact",
        topic=topic,
        importance=importance,
        origin=MemoryOrigin.PERSON,
    )
    if when is not None:
        row.created_at = row.updated_at = when
    session.add(row)
    await session.flush()
    return row
