"""The replay log of live events forgets an erased person's words too."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from store.metadata import event_log
from store.models import Message, MessageStatus
from tests.support.graphql import (
    PASSWORD,
    GraphQLClient,
    create_companion,
    register,
    start_conversation,
)

SEND = "mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id } }"


async def _settled(app: Any) -> None:
    for _ in range(200):
        async with app.state.holo.sessionmaker() as session:
            busy = await session.scalar(
                select(Message.id).where(Message.status == MessageStatus.STREAMING)
            )
        if busy is None:
            return
        await asyncio.sleep(0.05)


async def test_erasure_removes_the_persons_events_from_the_replay_log(
    api: GraphQLClient, app: Any
) -> None:
    ada = (await register(api, "ada@example.com", "Ada"))["accessToken"]
    bob = (await register(api, "bob@example.com", "Bob"))["accessToken"]
    ada_conv = await start_conversation(api, ada, (await create_companion(api, ada))["id"])
    bob_conv = await start_conversation(api, bob, (await create_companion(api, bob))["id"])
    await api.ok(
        'mutation($id: ID!) { inviteToConversation(id: $id, email: "ada@example.com") { id } }',
        {"id": bob_conv["id"]},
        bob,
    )
    await api.ok(SEND, {"c": ada_conv["id"], "t": "my secret diary words"}, ada)
    await api.ok(SEND, {"c": bob_conv["id"], "t": "ada whispers in bob's chat"}, ada)
    await api.ok(SEND, {"c": bob_conv["id"], "t": "bob keeps talking"}, bob)
    await _settled(app)

    async def logged() -> str:
        async with app.state.holo.sessionmaker() as session:
            return "\n".join((await session.scalars(select(event_log.c.payload))).all())

    before = await logged()
    assert "my secret diary words" in before and "ada whispers" in before
    assert (
        await api.ok(
            "mutation($p: String!) { deleteMyAccount(password: $p) }", {"p": PASSWORD}, ada
        )
    )["deleteMyAccount"] is True
    after = await logged()
    assert "my secret diary words" not in after  # her own conversation is gone entirely
    # In Bob's conversation her message event is gone (the companion's answer stays, as it
    # does in the conversation itself).
    assert '"text":"ada whispers in bob\'s chat"' in before
    assert '"text":"ada whispers in bob\'s chat"' not in after
    assert '"text":"bob keeps talking"' in after  # the others' words stay resumable
