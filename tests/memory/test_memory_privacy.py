"""Memories are the person's data: in their export, gone with their account, gone with the
companion."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from pipeline.broadcast import LOG_START
from services.channels import conversation_channel
from store.models import Memory
from tests.memory.api import remember
from tests.privacy.test_export import EXPORT, wait_until_ready
from tests.support.graphql import (
    PASSWORD,
    GraphQLClient,
    create_companion,
    register,
    start_conversation,
)

pytestmark = pytest.mark.usefixtures("clean_db")

DELETE_ACCOUNT = "mutation($password: String!) { deleteMyAccount(password: $password) }"
SEND = "mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id } }"
INVITE = "mutation($c: ID!, $e: String!) { inviteToConversation(id: $c, email: $e) { id } }"


async def stored(app: Starlette) -> list[str]:
    async with app.state.holo.sessionmaker() as session:
        return sorted((await session.scalars(select(Memory.text))).all())


async def shared_companion(api: GraphQLClient) -> tuple[str, str, str]:
    """Ada's companion Nova, talked to by Ada and by Bo (invited); each told it one thing."""
    ada = (await register(api, "ada@example.com", "Ada"))["accessToken"]
    bo = (await register(api, "bo@example.com", "Bo"))["accessToken"]
    nova = (await create_companion(api, ada, "Nova"))["id"]
    conversation = (await start_conversation(api, ada, nova))["id"]
    await api.ok(INVITE, {"c": conversation, "e": "bo@example.com"}, ada)
    await remember(api, ada, nova, "Ada is allergic to peanuts")
    await remember(api, bo, nova, "Bo plays the cello")
    return ada, bo, nova


async def test_my_memories_are_in_my_export(
    api: GraphQLClient, http: httpx.AsyncClient, app: Starlette
) -> None:
    ada, bo, _ = await shared_companion(api)
    started = (await api.ok(EXPORT, token=ada))["exportMyData"]
    job = await wait_until_ready(api, started["id"], ada)
    archive = zipfile.ZipFile(io.BytesIO((await http.get(job["url"])).content))
    data = json.loads(archive.read("data.json"))
    assert [m["text"] for m in data["memories"]] == ["Ada is allergic to peanuts"]
    assert data["memories"][0]["origin"] == "person"
    assert "embedding" not in data["memories"][0]


async def test_deleting_my_account_erases_my_memories_and_those_of_my_companions(
    api: GraphQLClient, app: Starlette
) -> None:
    ada, bo, nova = await shared_companion(api)
    other = (await create_companion(api, bo, "Orion"))["id"]
    await remember(api, bo, other, "Bo told Orion about the cello")

    assert (await api.ok(DELETE_ACCOUNT, {"password": PASSWORD}, bo))["deleteMyAccount"]
    assert await stored(app) == ["Ada is allergic to peanuts"]

    await remember(api, ada, nova, "Ada lives in Lisbon")
    assert (await api.ok(DELETE_ACCOUNT, {"password": PASSWORD}, ada))["deleteMyAccount"]
    assert await stored(app) == []


async def test_deleting_a_companion_erases_what_it_remembered(
    api: GraphQLClient, app: Starlette
) -> None:
    ada, bo, nova = await shared_companion(api)
    kept = (await create_companion(api, ada, "Orion"))["id"]
    await remember(api, ada, kept, "Ada likes Orion's jokes")
    await api.ok("mutation($id: ID!) { deleteCompanion(id: $id) }", {"id": nova}, ada)
    assert await stored(app) == ["Ada likes Orion's jokes"]


async def test_an_erased_persons_memory_events_leave_the_replay_log(
    api: GraphQLClient, app: Starlette
) -> None:
    ada = (await register(api, "ada@example.com", "Ada"))["accessToken"]
    bo = (await register(api, "bo@example.com", "Bo"))["accessToken"]
    nova = (await create_companion(api, ada, "Nova"))["id"]
    conversation = (await start_conversation(api, ada, nova))["id"]
    await api.ok(INVITE, {"c": conversation, "e": "bo@example.com"}, ada)
    await api.ok(SEND, {"c": conversation, "t": "I'm allergic to cats."}, bo)
    await api.ok(SEND, {"c": conversation, "t": "I'm allergic to wasps."}, ada)
    for _ in range(200):  # memories form in the background after each reply
        if len(await stored(app)) == 2:
            break
        await asyncio.sleep(0.05)
    assert await stored(app) == ["Ada is allergic to wasps", "Bo is allergic to cats"]
    assert "Bo is allergic to cats" in await logged(app, conversation)

    assert (await api.ok(DELETE_ACCOUNT, {"password": PASSWORD}, bo))["deleteMyAccount"]
    log = await logged(app, conversation)
    assert "Bo is allergic to cats" not in log
    assert "Ada is allergic to wasps" in log
    assert await stored(app) == ["Ada is allergic to wasps"]


async def logged(app: Starlette, conversation: str) -> str:
    """What the replay log still holds of the conversation (whatever its store)."""
    hub = app.state.holo.hub
    channel = hub.namespace + conversation_channel(int(conversation.split("_")[1]))
    return "\n".join(e.payload for e in await hub.log.read_after(channel, LOG_START, 10_000))
