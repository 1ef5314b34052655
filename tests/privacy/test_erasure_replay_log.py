"""The replay log of live events forgets an erased person's words too."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from pipeline.broadcast import LOG_START
from services.channels import conversation_channel
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

    hub = app.state.holo.hub

    async def logged() -> str:
        """Everything the replay log still holds of both conversations (whatever its store)."""
        entries = [
            entry
            for conversation in (ada_conv, bob_conv)
            for entry in await hub.log.read_after(
                hub.namespace + conversation_channel(int(conversation["id"].split("_")[1])),
                LOG_START,
                10_000,
            )
        ]
        return "\n".join(entry.payload for entry in entries)

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
