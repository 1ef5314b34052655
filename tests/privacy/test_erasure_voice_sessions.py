"""What a person said in a voice session in someone else's conversation is theirs: erasure
scrubs it from the replay log even when no turn became a message (holograms of that
companion replay the log from their cursors, as screens do)."""

from __future__ import annotations

import asyncio
from typing import Any

from pipeline.broadcast import LOG_START
from services.channels import conversation_channel
from tests.support.graphql import (
    PASSWORD,
    GraphQLClient,
    create_companion,
    register,
    start_conversation,
)

START = "mutation($c: ID) { startVoiceSession(conversationId: $c) { id } }"
END = "mutation($s: ID!) { endVoiceSession(sessionId: $s) { id } }"
SEND = "mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id } }"


async def test_erasure_scrubs_a_voice_session_that_never_became_a_message(
    api: GraphQLClient, app: Any
) -> None:
    ada = (await register(api, "ada@example.com", "Ada"))["accessToken"]
    bob = (await register(api, "bob@example.com", "Bob"))["accessToken"]
    ada_id = (await api.ok("{ me { id } }", token=ada))["me"]["id"].split("_")[1]
    bob_conv = await start_conversation(api, bob, (await create_companion(api, bob))["id"])
    await api.ok(
        'mutation($id: ID!) { inviteToConversation(id: $id, email: "ada@example.com") { id } }',
        {"id": bob_conv["id"]},
        bob,
    )
    await api.ok(SEND, {"c": bob_conv["id"], "t": "bob keeps talking"}, bob)
    session = (await api.ok(START, {"c": bob_conv["id"]}, ada))["startVoiceSession"]["id"]
    await api.ok(END, {"s": session}, ada)
    hub = app.state.holo.hub
    channel = hub.namespace + conversation_channel(int(bob_conv["id"].split("_")[1]))

    async def logged() -> str:
        entries = await hub.log.read_after(channel, LOG_START, 10_000)
        return "\n".join(entry.payload for entry in entries)

    for _ in range(100):  # the session's task publishes its closing
        if session in await logged():
            break
        await asyncio.sleep(0.05)
    marker = f'"author_id":{ada_id},'
    before = await logged()
    assert marker in before and "VoiceSessionClosed" in before
    await api.ok("mutation($p: String!) { deleteMyAccount(password: $p) }", {"p": PASSWORD}, ada)
    after = await logged()
    assert marker not in after and session not in after
    assert '"text":"bob keeps talking"' in after  # the others' words stay resumable
