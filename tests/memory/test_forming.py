"""After each turn the companion remembers what people said about themselves: the stream says
so (MemoryFormed), a change of heart updates the old memory, memory off forms nothing, and in a
shared conversation each memory belongs to the person who said it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gql import gql

from services.memories.forming import MemoryForming
from store.db import make_engine, make_sessionmaker
from tests.memory.api import MEMORIES, MEMORY_SWITCH
from tests.realtime.helpers import live_cursor, ok, send, setup_conversation, ws_client
from tests.support.server import LiveServer

EVENTS = gql("""
subscription Events($id: ID!, $after: String) {
  conversationEvents(conversationId: $id, after: $after) {
    __typename
    ... on EventBase { cursor messageId }
    ... on MessagePosted { message { id } }
    ... on ReplyCompleted { message { id } }
    ... on MemoryFormed {
      memory { id companionId text kind origin importance conversationId messageId createdAt }
    }
  }
}
""")


def memories(server: LiveServer, token: str, companion: str) -> list[dict[str, Any]]:
    data = ok(server, MEMORIES, {"companionId": companion}, token)
    return [e["node"] for e in data["memories"]["edges"]]


async def said(
    server: LiveServer,
    world: dict[str, str],
    text: str,
    formed: int,
    token: str | None = None,
    until: str = "MemoryFormed",
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Send ``text``; return the message and the first ``formed`` events named ``until``."""
    token = token or world["token"]
    cursor = live_cursor(server, world)
    async with ws_client(server, world["token"], "graphql-transport-ws") as session:
        events = session.subscribe(
            EVENTS, variable_values={"id": world["conversation"], "after": cursor}
        )
        message = await asyncio.to_thread(send, server, token, world["conversation"], text)
        got: list[dict[str, Any]] = []
        try:
            while len(got) < formed:
                event = (await asyncio.wait_for(anext(events), 30))["conversationEvents"]
                if event["__typename"] == until:
                    got.append(event)
        finally:
            await events.aclose()
    return message, got


async def test_what_a_person_says_is_remembered_and_the_stream_says_so(
    server: LiveServer,
) -> None:
    world = setup_conversation(server)
    message, formed = await said(
        server, world, "Hi, I'm Ada. I'm allergic to peanuts and I live in Lisbon.", 3
    )
    texts = {e["memory"]["text"] for e in formed}
    assert texts == {
        "Ada's name is Ada",
        "Ada is allergic to peanuts",
        "Ada lives in Lisbon",
    }
    for event in formed:
        assert event["messageId"] == message["id"]
        assert event["memory"]["messageId"] == message["id"]
        assert event["memory"]["conversationId"] == world["conversation"]
        assert event["memory"]["companionId"] == world["companion"]
        assert event["memory"]["origin"] == "EXTRACTED"
    allergy = next(e["memory"] for e in formed if e["memory"]["kind"] == "allergy")
    assert allergy["importance"] == 0.9
    assert {m["text"] for m in memories(server, world["token"], world["companion"])} == texts


async def test_a_change_of_heart_updates_the_memory_instead_of_adding_one(
    server: LiveServer,
) -> None:
    world = setup_conversation(server)
    _, [first] = await said(server, world, "I love tea.", 1)
    _, [changed] = await said(server, world, "Honestly, I don't like tea anymore.", 1)
    assert changed["memory"]["id"] == first["memory"]["id"]
    assert changed["memory"]["kind"] == "dislike"
    assert changed["memory"]["text"] == "Ada doesn't like tea"
    # Said again: no new memory, no event (the next fact's event is the first to arrive).
    _, [work] = await said(server, world, "I don't like tea anymore. I work at the bakery.", 1)
    assert work["memory"]["text"] == "Ada works at the bakery"
    kept = memories(server, world["token"], world["companion"])
    assert sorted(m["text"] for m in kept) == ["Ada doesn't like tea", "Ada works at the bakery"]


async def test_memory_off_forms_nothing(server: LiveServer, database_url: str) -> None:
    world = setup_conversation(server)
    ok(server, MEMORY_SWITCH, {"id": world["companion"], "on": False}, world["token"])
    message, [completed] = await said(server, world, "I live in Berlin.", 1, until="ReplyCompleted")
    engine = make_engine(database_url)
    try:
        forming = MemoryForming(make_sessionmaker(engine), hub=None)
        async with forming.sessionmaker() as session:
            reply_id = await _reply_to(session, int(message["id"].split("_")[1]))
            assert completed["message"]["id"] == f"msg_{reply_id}"
            conversation = int(world["conversation"].split("_")[1])
            assert await forming.form(session, conversation, reply_id) == []
    finally:
        await engine.dispose()
    await asyncio.sleep(1.0)  # the server's own after-turn step, run after the reply, is done
    assert memories(server, world["token"], world["companion"]) == []
    ok(server, MEMORY_SWITCH, {"id": world["companion"], "on": True}, world["token"])
    _, [formed] = await said(server, world, "I work as a nurse.", 1)
    assert formed["memory"]["text"] == "Ada works as a nurse"


async def _reply_to(session: Any, message_id: int) -> int | None:
    from sqlalchemy import select

    from store.models import Message

    reply: int | None = await session.scalar(
        select(Message.id).where(Message.reply_to_id == message_id)
    )
    return reply


async def test_in_a_shared_conversation_a_memory_belongs_to_who_said_it(
    server: LiveServer,
) -> None:
    world = setup_conversation(server)
    bo = ok(
        server,
        'mutation { register(email: "bo@example.com", password: "correct horse", '
        'displayName: "Bo") { accessToken } }',
    )["register"]["accessToken"]
    ok(
        server,
        'mutation($c: ID!) { inviteToConversation(id: $c, email: "bo@example.com") { id } }',
        {"c": world["conversation"]},
        world["token"],
    )
    _, [formed] = await said(server, world, "I'm allergic to cats.", 1, token=bo)
    assert formed["memory"]["text"] == "Bo is allergic to cats"
    assert [m["text"] for m in memories(server, bo, world["companion"])] == [
        "Bo is allergic to cats"
    ]
    assert memories(server, world["token"], world["companion"]) == []
    stranger = ok(
        server,
        'mutation { register(email: "eve@example.com", password: "correct horse", '
        'displayName: "Eve") { accessToken } }',
    )["register"]["accessToken"]
    body = await asyncio.to_thread(
        _graphql_error, server, MEMORIES, {"companionId": world["companion"]}, stranger
    )
    assert body["extensions"]["code"] == "NOT_FOUND"


def _graphql_error(
    server: LiveServer, query: str, variables: dict[str, Any], token: str
) -> dict[str, Any]:
    from tests.realtime.helpers import graphql

    body = graphql(server, query, variables, token)
    assert body.get("errors"), body
    error: dict[str, Any] = body["errors"][0]
    return error


pytestmark = pytest.mark.usefixtures("clean_db")
