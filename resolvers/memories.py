"""memories, rememberMemory, updateMemory, forgetMemory, forgetAllMemories."""

from __future__ import annotations

import strawberry

from context.request import Context
from schema import ids
from schema.types.connection import Connection
from schema.types.memory import Memory
from services.memories import store
from services.paging import PageArgs


@strawberry.type
class MemoryQuery:
    @strawberry.field(
        description="What the companion remembers about the caller, newest first; query keeps "
        "the memories with all of its words. A companion the caller neither owns nor talks to "
        "is NOT_FOUND."
    )
    async def memories(
        self,
        info: strawberry.Info[Context, None],
        companion_id: strawberry.ID,
        query: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Memory]:
        viewer = info.context.person()
        args = PageArgs(first=first, after=after).validated()
        companion = ids.decode("Companion", companion_id)
        async with info.context.app.sessionmaker() as session:
            page = await store.page(session, viewer, companion, query, args)
        return Connection[Memory].from_page(page, Memory.from_model)


@strawberry.type
class MemoryMutation:
    @strawberry.mutation(
        description="Tell the companion something to remember (text up to 500 characters, "
        "importance 0 to 1, default 0.6). QUOTA_EXCEEDED past the plan's memories limit."
    )
    async def remember_memory(
        self,
        info: strawberry.Info[Context, None],
        companion_id: strawberry.ID,
        text: str,
        importance: float | None = None,
    ) -> Memory:
        viewer = info.context.person()
        companion = ids.decode("Companion", companion_id)
        async with info.context.app.sessionmaker() as session:
            row = await store.remember(session, viewer, companion, text, importance)
        return Memory.from_model(row)

    @strawberry.mutation(description="Correct a memory; only the fields given change.")
    async def update_memory(
        self,
        info: strawberry.Info[Context, None],
        id: strawberry.ID,
        text: str | None = None,
        importance: float | None = None,
    ) -> Memory:
        viewer = info.context.person()
        edit = store.MemoryEdit(text=text, importance=importance)
        async with info.context.app.sessionmaker() as session:
            row = await store.update(session, viewer, ids.decode("Memory", id), edit)
        return Memory.from_model(row)

    @strawberry.mutation(description="The companion forgets this memory for good.")
    async def forget_memory(
        self, info: strawberry.Info[Context, None], id: strawberry.ID
    ) -> strawberry.ID:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            await store.forget(session, viewer, ids.decode("Memory", id))
        return id

    @strawberry.mutation(description="Forget everything the caller told this companion; how many.")
    async def forget_all_memories(
        self, info: strawberry.Info[Context, None], companion_id: strawberry.ID
    ) -> int:
        viewer = info.context.person()
        companion = ids.decode("Companion", companion_id)
        async with info.context.app.sessionmaker() as session:
            return await store.forget_all(session, viewer, companion)
