"""Plan limits are exact when many requests race for the last slots, on SQLite and PostgreSQL.

Every racing request gets an answer a client can act on: its write, or QUOTA_EXCEEDED (never a
masked error, never "database is locked"), and exactly as many writes land as the plan allows.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from api.settings import Settings
from store.models import (
    Companion,
    HologramDevice,
    Message,
    MessageStatus,
    VoiceProfile,
)
from tests.devices.helpers import PAIR, REQUEST
from tests.support.billing import grant_plan, spent_voice
from tests.support.graphql import (
    CREATE_COMPANION,
    GraphQLClient,
    create_companion,
    register,
    start_conversation,
)

SEND = "mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id } }"
SENDERS = 20


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # 120 sends and 100 replies at once on SQLite's one writer, on a shared 2-core machine: a
    # send may wait its turn longer than the default 10 s operation limit. Not what is tested.
    return settings.model_copy(update={"operation_timeout_s": 120.0})


def _code(answer: dict[str, Any]) -> str:
    return str(answer["errors"][0]["extensions"]["code"]) if answer.get("errors") else "OK"


async def _count(app: Any, model: Any, *where: Any) -> int:
    async with app.state.holo.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_twenty_racing_senders_with_100_left_get_exactly_100_through(
    api: GraphQLClient, app: Any
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    companion = await create_companion(api, token)
    conv_id = (await start_conversation(api, token, companion["id"]))["id"]
    pk = int(conv_id.split("_")[1])
    # Ada's month of voice is spent, so the 100 replies below are text only (faster); her last
    # words are yesterday's, so all of today's 100 messages are left.
    await spent_voice(app, pk, 31 * 60_000, asked_before_today=True)

    async def sender(n: int) -> list[str]:
        # Each screen sends six messages back to back: 120 tries for 100 slots.
        return [
            _code(await api.raw(SEND, {"c": conv_id, "t": f"race {n}.{i}"}, token))
            for i in range(6)
        ]

    answers = await asyncio.gather(*(sender(n) for n in range(SENDERS)))
    codes = Counter(code for one in answers for code in one)
    assert codes == {"OK": 100, "QUOTA_EXCEEDED": 20}
    assert await _count(app, Message, Message.text.like("race %")) == 100
    billing = await api.ok("{ billing { usage { messagesToday } } }", token=token)
    assert billing["billing"]["usage"]["messagesToday"] == 100


async def test_racing_companion_creations_stop_at_the_plan_limit(
    api: GraphQLClient, app: Any
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    await grant_plan(app, "ada@example.com", "plus")  # 10 companions
    answers = await asyncio.gather(
        *(api.raw(CREATE_COMPANION, {"input": {"name": f"C{i}"}}, token) for i in range(SENDERS))
    )
    assert Counter(_code(a) for a in answers) == {"OK": 10, "QUOTA_EXCEEDED": 10}
    assert await _count(app, Companion) == 10


async def test_racing_device_pairings_stop_at_the_plan_limit(api: GraphQLClient, app: Any) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    await grant_plan(app, "ada@example.com", "plus")  # 3 devices
    codes = [
        (await api.ok(REQUEST, {"m": "holo-1", "s": f"HX-{i}", "c": ["audio"]}))[
            "requestDevicePairing"
        ]["userCode"]
        for i in range(8)
    ]
    answers = await asyncio.gather(
        *(api.raw(PAIR, {"u": code, "n": f"Desk {i}"}, token) for i, code in enumerate(codes))
    )
    assert Counter(_code(a) for a in answers) == {"OK": 3, "QUOTA_EXCEEDED": 5}
    assert await _count(app, HologramDevice, HologramDevice.revoked_at.is_(None)) == 3


async def _replies_to(app: Any, texts: list[str]) -> list[Message]:
    for _ in range(400):
        async with app.state.holo.sessionmaker() as session:
            asked = select(Message.id).where(Message.text.in_(texts))
            rows = list(
                await session.scalars(select(Message).where(Message.reply_to_id.in_(asked)))
            )
        if len(rows) == len(texts) and all(r.status != MessageStatus.STREAMING for r in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError("the replies did not finish")


async def test_replies_speaking_at_once_share_the_last_voice_seconds_exactly(
    api: GraphQLClient, app: Any
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    companion = await create_companion(api, token)
    conv_id = (await start_conversation(api, token, companion["id"]))["id"]
    # Six seconds are left of her month's 30 voice minutes.
    await spent_voice(app, int(conv_id.split("_")[1]), 30 * 60_000 - 6_000)
    texts = [f"Tell me a story, part {i}." for i in range(4)]
    await asyncio.gather(*(api.ok(SEND, {"c": conv_id, "t": t}, token) for t in texts))
    replies = await _replies_to(app, texts)
    spoken = [int(r.timings.get("audio_ms", 0)) for r in replies]
    # Four replies speak at once with six seconds left: together they say at most six seconds,
    # and the rest of each reply arrives as text.
    assert 0 < sum(spoken) <= 6_000, spoken
    assert all(r.status == MessageStatus.COMPLETE and r.text for r in replies)
    usage = await api.ok("{ billing { usage { voiceMinutesThisMonth } } }", token=token)
    assert usage["billing"]["usage"]["voiceMinutesThisMonth"] <= 30


async def test_a_reply_granted_voice_ahead_is_charged_only_what_it_said(
    api: GraphQLClient, app: Any
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    companion = await create_companion(api, token)
    conv_id = (await start_conversation(api, token, companion["id"]))["id"]
    # Far from her month's limit: each reply is granted voice ahead of its sentences.
    texts = [f"Tell me a story, part {i}." for i in range(3)]
    for text in texts:
        await api.ok(SEND, {"c": conv_id, "t": text}, token)
    replies = await _replies_to(app, texts)
    for reply in replies:
        said = sum(chunk["duration_ms"] for chunk in reply.audio)
        assert said > 0
        assert reply.timings["audio_ms"] == said  # the grant ahead is not charged
    usage = await api.ok("{ billing { usage { voiceMinutesThisMonth } } }", token=token)
    spoken_ms = sum(int(r.timings["audio_ms"]) for r in replies)
    assert usage["billing"]["usage"]["voiceMinutesThisMonth"] == round(spoken_ms / 60_000, 2)


async def test_racing_voice_profiles_stop_at_fifty(api: GraphQLClient, app: Any) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    async with app.state.holo.sessionmaker() as session:
        session.add_all(VoiceProfile(owner_id=1, name=f"V{i}", voice_id="en-us") for i in range(48))
        await session.commit()
    create = "mutation($n: String!) { createVoiceProfile(input: {name: $n}) { id } }"
    answers = await asyncio.gather(
        *(api.raw(create, {"n": f"R{i}"}, token) for i in range(SENDERS))
    )
    assert Counter(_code(a) for a in answers) == {"OK": 2, "QUOTA_EXCEEDED": 18}
    assert await _count(app, VoiceProfile) == 50
