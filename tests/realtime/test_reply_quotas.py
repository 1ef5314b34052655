"""Plan limits where a conversation meets them: messages per day, then voice minutes."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from store.models import Message, MessageRole, MessageStatus
from tests.support.billing import spent_voice
from tests.support.graphql import GraphQLClient, create_companion, register, start_conversation

SEND = "mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id } }"


async def _world(api: GraphQLClient) -> tuple[str, str, int]:
    reg = await register(api, "ada@example.com")
    token = reg["accessToken"]
    comp = await create_companion(api, token)
    conv = await start_conversation(api, token, comp["id"])
    return token, conv["id"], int(conv["id"].split("_")[1])


async def _sent_today(app: Any, conversation_pk: int, count: int) -> None:
    """As if Ada (user 1) had already sent ``count`` messages today."""
    async with app.state.holo.sessionmaker() as session:
        session.add_all(
            Message(
                conversation_id=conversation_pk,
                author_id=1,
                role=MessageRole.USER,
                text=f"m{i}",
                status=MessageStatus.COMPLETE,
            )
            for i in range(count)
        )
        await session.commit()


async def test_the_daily_message_limit_says_when_it_resets(api: GraphQLClient, app: Any) -> None:
    token, conv_id, pk = await _world(api)
    await _sent_today(app, pk, 100)
    error = await api.error(SEND, {"c": conv_id, "t": "one more"}, token)
    assert error["extensions"]["code"] == "QUOTA_EXCEEDED"
    assert error["extensions"]["limit"] == "messagesPerDay"
    assert error["extensions"]["allowed"] == 100
    assert error["extensions"]["resetsAt"].endswith("T00:00:00+00:00")
    async with app.state.holo.sessionmaker() as session:
        texts = await session.scalars(select(Message.text).where(Message.text == "one more"))
        assert texts.all() == []


async def test_racing_sends_cannot_pass_the_daily_limit_together(
    api: GraphQLClient, app: Any
) -> None:
    token, conv_id, pk = await _world(api)
    await _sent_today(app, pk, 98)
    # Six screens send at once with two messages left today.
    answers = await asyncio.gather(
        *(api.raw(SEND, {"c": conv_id, "t": f"racing {i}"}, token) for i in range(6))
    )
    codes = sorted(a["errors"][0]["extensions"]["code"] if "errors" in a else "OK" for a in answers)
    assert codes == ["OK", "OK"] + ["QUOTA_EXCEEDED"] * 4
    async with app.state.holo.sessionmaker() as session:
        sent = await session.scalars(select(Message.text).where(Message.text.like("racing %")))
        assert len(sent.all()) == 2


async def test_out_of_voice_minutes_the_companion_answers_in_text(
    api: GraphQLClient, app: Any
) -> None:
    token, conv_id, pk = await _world(api)
    await spent_voice(app, pk, 31 * 60_000)
    sent = await api.ok(SEND, {"c": conv_id, "t": "Are you there?"}, token)
    user_pk = int(sent["sendMessage"]["id"].split("_")[1])
    for _ in range(200):
        async with app.state.holo.sessionmaker() as session:
            reply = await session.scalar(select(Message).where(Message.reply_to_id == user_pk))
        if reply is not None and reply.status != MessageStatus.STREAMING:
            break
        await asyncio.sleep(0.05)
    assert reply is not None and reply.status == MessageStatus.COMPLETE
    assert reply.text and reply.audio == []
