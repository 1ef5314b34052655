"""A person sees, corrects and forgets what a companion remembers about them, and nobody else
can: a stranger's companion or memory reads as missing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services import plans
from tests.memory.api import (
    FORGET,
    FORGET_ALL,
    MEMORIES,
    MEMORY_SWITCH,
    UPDATE,
    memory_texts,
    remember,
)
from tests.support.graphql import GraphQLClient, create_companion, register

pytestmark = pytest.mark.usefixtures("clean_db")


async def test_remember_edit_search_and_forget(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    nova = (await create_companion(api, token, "Nova"))["id"]
    peanuts = await remember(api, token, nova, "Ada is allergic to peanuts", importance=0.9)
    assert peanuts["origin"] == "PERSON"
    assert peanuts["importance"] == 0.9
    assert peanuts["companionId"] == nova
    assert peanuts["conversationId"] is None
    tea = await remember(api, token, nova, "  Ada loves green tea  ")
    assert tea["text"] == "Ada loves green tea"
    assert tea["importance"] == 0.6

    assert await memory_texts(api, token, nova) == [
        "Ada loves green tea",
        "Ada is allergic to peanuts",
    ]
    assert await memory_texts(api, token, nova, "peanut") == ["Ada is allergic to peanuts"]
    assert await memory_texts(api, token, nova, "green tea") == ["Ada loves green tea"]
    assert await memory_texts(api, token, nova, "green peanuts") == []
    assert len(await memory_texts(api, token, nova, "the")) == 2  # no searchable words

    edited = await api.ok(UPDATE, {"id": tea["id"], "text": "Ada prefers black tea"}, token)
    assert edited["updateMemory"]["text"] == "Ada prefers black tea"
    assert edited["updateMemory"]["importance"] == 0.6
    assert await memory_texts(api, token, nova, "green") == []
    assert await memory_texts(api, token, nova, "black") == ["Ada prefers black tea"]

    forgotten = await api.ok(FORGET, {"id": peanuts["id"]}, token)
    assert forgotten["forgetMemory"] == peanuts["id"]
    assert await memory_texts(api, token, nova) == ["Ada prefers black tea"]
    assert await memory_texts(api, token, nova, "peanuts") == []

    again = await remember(api, token, nova, "ADA PREFERS BLACK TEA", importance=0.8)
    assert again["id"] == tea["id"] and again["importance"] == 0.8
    assert await memory_texts(api, token, nova) == ["Ada prefers black tea"]

    await remember(api, token, nova, "Ada's sister is Ana")
    other = (await create_companion(api, token, "Orion"))["id"]
    await remember(api, token, other, "Ada told Orion a secret")
    assert (await api.ok(FORGET_ALL, {"companionId": nova}, token))["forgetAllMemories"] == 2
    assert await memory_texts(api, token, nova) == []
    assert await memory_texts(api, token, other) == ["Ada told Orion a secret"]


async def test_memories_page_newest_first(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    nova = (await create_companion(api, token, "Nova"))["id"]
    for i in range(5):
        await remember(api, token, nova, f"Fact number {i}")
    first = (await api.ok(MEMORIES, {"companionId": nova, "first": 3}, token))["memories"]
    assert [e["node"]["text"] for e in first["edges"]] == [f"Fact number {i}" for i in (4, 3, 2)]
    assert first["pageInfo"]["hasNextPage"] is True
    after = first["pageInfo"]["endCursor"]
    rest = (await api.ok(MEMORIES, {"companionId": nova, "after": after}, token))["memories"]
    assert [e["node"]["text"] for e in rest["edges"]] == ["Fact number 1", "Fact number 0"]


async def test_a_strangers_companion_and_memories_read_as_missing(api: GraphQLClient) -> None:
    ada = (await register(api, "ada@example.com"))["accessToken"]
    eve = (await register(api, "eve@example.com", "Eve"))["accessToken"]
    nova = (await create_companion(api, ada, "Nova"))["id"]
    memory = await remember(api, ada, nova, "Ada is allergic to peanuts")
    missing_companion = "cmp_999999"
    missing_memory = "mem_999999"
    calls = [
        (MEMORIES, {"companionId": nova}),
        (FORGET_ALL, {"companionId": nova}),
        (UPDATE, {"id": memory["id"], "text": "Eve was here"}),
        (FORGET, {"id": memory["id"]}),
    ]
    for query, variables in calls:
        err = await api.error(query, variables, eve)
        assert err["extensions"]["code"] == "NOT_FOUND", err
    for query, variables in [
        (MEMORIES, {"companionId": missing_companion}),
        (UPDATE, {"id": missing_memory, "text": "x"}),
        (FORGET, {"id": missing_memory}),
        (FORGET, {"id": "cmp_1"}),
    ]:
        err = await api.error(query, variables, eve)
        assert err["extensions"]["code"] == "NOT_FOUND", err
    stranger = await api.error(UPDATE, {"id": memory["id"], "text": "x"}, eve)
    missing = await api.error(UPDATE, {"id": missing_memory, "text": "x"}, eve)
    assert stranger["message"] == missing["message"]
    err = await api.error(
        'mutation R($c: ID!) { rememberMemory(companionId: $c, text: "x") { id } }',
        {"c": nova},
        eve,
    )
    assert err["extensions"]["code"] == "NOT_FOUND"
    assert await memory_texts(api, ada, nova) == ["Ada is allergic to peanuts"]


@pytest.mark.parametrize(
    ("text", "importance", "field"),
    [
        ("x" * 501, None, "text"),
        ("   ", None, "text"),
        ("bell \x07", None, "text"),
        ("fine", 1.5, "importance"),
        ("fine", -0.1, "importance"),
    ],
)
async def test_bad_memories_are_refused_with_the_field(
    api: GraphQLClient, text: str, importance: float | None, field: str
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    nova = (await create_companion(api, token, "Nova"))["id"]
    variables = {"companionId": nova, "text": text, "importance": importance}
    query = (
        "mutation R($companionId: ID!, $text: String!, $importance: Float) {"
        " rememberMemory(companionId: $companionId, text: $text, importance: $importance) { id } }"
    )
    err = await api.error(query, variables, token)
    assert err["extensions"]["code"] == "BAD_USER_INPUT"
    assert err["extensions"]["field"] == field
    memory = await remember(api, token, nova, "kept")
    err = await api.error(
        UPDATE, {"id": memory["id"], field: text if field == "text" else importance}, token
    )
    assert (err["extensions"]["code"], err["extensions"]["field"]) == ("BAD_USER_INPUT", field)
    assert await memory_texts(api, token, nova) == ["kept"]


async def test_remembering_past_the_plan_limit_is_a_quota_error(
    api: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    nova = (await create_companion(api, token, "Nova"))["id"]
    for i in range(3):
        await remember(api, token, nova, f"Fact {i}")
    monkeypatch.setitem(plans.PLANS, "free", replace(plans.PLANS["free"], memories=3))
    err = await api.error(
        'mutation R($c: ID!) { rememberMemory(companionId: $c, text: "one more") { id } }',
        {"c": nova},
        token,
    )
    assert err["extensions"]["code"] == "QUOTA_EXCEEDED"
    assert err["extensions"]["limit"] == "memories"
    assert err["extensions"]["allowed"] == 3


async def test_memory_can_be_switched_off_per_companion(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    nova = (await create_companion(api, token, "Nova"))["id"]
    got = await api.ok(MEMORY_SWITCH, {"id": nova, "on": False}, token)
    assert got["updateCompanion"] == {"id": nova, "memoryEnabled": False}
    data = await api.ok(f'{{ companion(id: "{nova}") {{ memoryEnabled }} }}', None, token)
    assert data["companion"]["memoryEnabled"] is False


@pytest.mark.parametrize(
    "query",
    ['"', "NEAR(peanuts ada)", "peanut*", "text: x", "!peanuts & | <->", "'; DROP TABLE x; --"],
)
async def test_a_hostile_search_is_only_words(api: GraphQLClient, query: str) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    nova = (await create_companion(api, token, "Nova"))["id"]
    await remember(api, token, nova, "Ada is allergic to peanuts")
    await remember(api, token, nova, "Ada's NEAR-sighted cat")
    got = await memory_texts(api, token, nova, query)
    assert set(got) <= {"Ada is allergic to peanuts", "Ada's NEAR-sighted cat"}
