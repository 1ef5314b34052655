"""Companions and conversations: the owner's view, sharing, paging, and input checks."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from tests.support.billing import grant_plan
from tests.support.graphql import (
    GraphQLClient,
    create_companion,
    register,
    start_conversation,
)

COMPANIONS = """
query Page($first: Int, $after: String) {
  companions(first: $first, after: $after) {
    edges { cursor node { id name } }
    pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
  }
}
"""
MESSAGES = """
query Msgs($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  conversation(id: $id) {
    messages(first: $first, after: $after, last: $last, before: $before) {
      edges { cursor node { id text role status author { displayName } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""


async def test_a_companion_is_created_read_updated_and_deleted(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    created = await create_companion(
        api,
        token,
        "Mira",
        persona="A calm astronomer",
        traits=["curious", "kind"],
        language="en-GB",
        greeting="Hello, star-gazer!",
    )
    assert created["traits"] == ["curious", "kind"] and created["language"] == "en-GB"
    got = await api.ok(
        "query($id: ID!) { companion(id: $id) { name persona } }", {"id": created["id"]}, token
    )
    assert got["companion"] == {"name": "Mira", "persona": "A calm astronomer"}
    updated = await api.ok(
        'mutation($id: ID!) { updateCompanion(id: $id, input: {name: "Mira II"}) '
        "{ name persona } }",
        {"id": created["id"]},
        token,
    )
    assert updated["updateCompanion"] == {"name": "Mira II", "persona": "A calm astronomer"}
    deleted = await api.ok(
        "mutation($id: ID!) { deleteCompanion(id: $id) }", {"id": created["id"]}, token
    )
    assert deleted["deleteCompanion"] == created["id"]
    gone = await api.error(
        "query($id: ID!) { companion(id: $id) { name } }", {"id": created["id"]}, token
    )
    assert gone["extensions"]["code"] == "NOT_FOUND"


async def test_companions_page_forward_without_gaps_or_repeats(
    api: GraphQLClient, app: Any
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    await grant_plan(app, "ada@example.com", "pro")  # seven companions: more than free allows
    names = [f"C{i}" for i in range(7)]
    for name in names:
        await create_companion(api, token, name)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await api.ok(COMPANIONS, {"first": 3, "after": after}, token))["companions"]
        seen += [e["node"]["name"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == names and pages == 3


async def test_starting_a_conversation_streams_the_greeting(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    comp = await create_companion(api, token, greeting="Hi there, {{user}}!")
    conv = await start_conversation(api, token, comp["id"])
    assert conv["title"] == "Chat with Mira"
    for _ in range(500):  # the greeting streams like a reply (tests/context: its events)
        msgs = (await api.ok(MESSAGES, {"id": conv["id"]}, token))["conversation"]["messages"]
        if msgs["edges"][0]["node"]["status"] != "STREAMING":
            break
        await asyncio.sleep(0.02)
    assert [(e["node"]["role"], e["node"]["text"], e["node"]["status"]) for e in msgs["edges"]] == [
        ("COMPANION", "Hi there, Ada!", "COMPLETE")
    ]


async def _conversation_with_messages(api: GraphQLClient, app: Any, count: int) -> tuple[str, str]:
    from store.models import Message, MessageRole, MessageStatus

    token = (await register(api, "ada@example.com"))["accessToken"]
    comp = await create_companion(api, token)
    conv = await start_conversation(api, token, comp["id"])
    pk = int(conv["id"].split("_")[1])
    async with app.state.holo.sessionmaker() as session:
        for i in range(count):
            session.add(
                Message(
                    conversation_id=pk,
                    role=MessageRole.USER,
                    text=f"m{i}",
                    status=MessageStatus.COMPLETE,
                )
            )
        await session.commit()
    return token, conv["id"]


async def test_messages_page_backwards_from_the_newest(api: GraphQLClient, app: Any) -> None:
    token, conv_id = await _conversation_with_messages(api, app, 10)
    newest = (await api.ok(MESSAGES, {"id": conv_id, "last": 1}, token))["conversation"]
    assert [e["node"]["text"] for e in newest["messages"]["edges"]] == ["m9"]
    assert newest["messages"]["pageInfo"]["hasPreviousPage"] is True
    older = (
        await api.ok(
            MESSAGES,
            {"id": conv_id, "last": 4, "before": newest["messages"]["pageInfo"]["startCursor"]},
            token,
        )
    )["conversation"]["messages"]
    assert [e["node"]["text"] for e in older["edges"]] == ["m5", "m6", "m7", "m8"]
    forward = (
        await api.ok(
            MESSAGES, {"id": conv_id, "first": 2, "after": older["pageInfo"]["endCursor"]}, token
        )
    )["conversation"]["messages"]
    assert [e["node"]["text"] for e in forward["edges"]] == ["m9"]
    assert forward["pageInfo"]["hasNextPage"] is False


async def test_paging_arguments_are_checked(api: GraphQLClient, app: Any) -> None:
    token, conv_id = await _conversation_with_messages(api, app, 1)
    both = await api.error(MESSAGES, {"id": conv_id, "first": 1, "last": 1}, token)
    assert both["extensions"] == {"code": "BAD_USER_INPUT", "field": "last"}
    huge = await api.error(MESSAGES, {"id": conv_id, "first": 1000}, token)
    assert huge["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}
    bad_cursor = await api.error(MESSAGES, {"id": conv_id, "after": "nonsense!"}, token)
    assert bad_cursor["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}


async def test_an_invited_person_sees_the_conversation_but_not_the_companion(
    api: GraphQLClient,
) -> None:
    ada = (await register(api, "ada@example.com", "Ada"))["accessToken"]
    bob = (await register(api, "bob@example.com", "Bob"))["accessToken"]
    comp = await create_companion(api, ada)
    conv = await start_conversation(api, ada, comp["id"], "Family chat")
    invite = (
        "mutation($id: ID!, $e: String!) { inviteToConversation(id: $id, email: $e) "
        "{ participants { user { displayName } role } } }"
    )
    data = await api.ok(invite, {"id": conv["id"], "e": "bob@example.com"}, ada)
    assert [
        (p["user"]["displayName"], p["role"]) for p in data["inviteToConversation"]["participants"]
    ] == [("Ada", "OWNER"), ("Bob", "MEMBER")]
    again = await api.error(invite, {"id": conv["id"], "e": "bob@example.com"}, ada)
    assert again["extensions"]["code"] == "CONFLICT"
    seen = await api.ok(
        "query($id: ID!) { conversation(id: $id) { title companion { name } } }",
        {"id": conv["id"]},
        bob,
    )
    assert seen["conversation"] == {"title": "Family chat", "companion": {"name": "Mira"}}
    listed = await api.ok("{ conversations { edges { node { id } } } }", token=bob)
    assert [e["node"]["id"] for e in listed["conversations"]["edges"]] == [conv["id"]]
    hidden = await api.error(
        "query($id: ID!) { companion(id: $id) { name } }", {"id": comp["id"]}, bob
    )
    assert hidden["extensions"]["code"] == "NOT_FOUND"
    # Members cannot rename, archive or invite: those belong to the owner.
    rename = await api.error(
        'mutation($id: ID!) { renameConversation(id: $id, title: "Mine") { title } }',
        {"id": conv["id"]},
        bob,
    )
    assert rename["extensions"]["code"] == "FORBIDDEN"


async def test_archiving_hides_a_conversation_from_the_default_list(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    comp = await create_companion(api, token)
    keep = await start_conversation(api, token, comp["id"], "keep")
    old = await start_conversation(api, token, comp["id"], "old")
    await api.ok(
        "mutation($id: ID!) { archiveConversation(id: $id) { archived } }", {"id": old["id"]}, token
    )
    listed = await api.ok("{ conversations { edges { node { title archived } } } }", token=token)
    assert [e["node"]["title"] for e in listed["conversations"]["edges"]] == ["keep"]
    everything = await api.ok(
        "{ conversations(includeArchived: true) { edges { node { title } } } }", token=token
    )
    assert [e["node"]["title"] for e in everything["conversations"]["edges"]] == ["old", "keep"]
    assert keep["title"] == "keep"


async def test_deleting_a_message_removes_only_it(api: GraphQLClient, app: Any) -> None:
    from store.models import Message

    token, conv_id = await _conversation_with_messages(api, app, 3)
    msgs = (await api.ok(MESSAGES, {"id": conv_id}, token))["conversation"]["messages"]
    target = msgs["edges"][1]["node"]["id"]
    await api.ok("mutation($id: ID!) { deleteMessage(id: $id) }", {"id": target}, token)
    after = (await api.ok(MESSAGES, {"id": conv_id}, token))["conversation"]["messages"]
    assert [e["node"]["text"] for e in after["edges"]] == ["m0", "m2"]
    async with app.state.holo.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 2


async def test_bad_companion_input_changes_nothing(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    cases = [
        ({"name": ""}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": "ok", "persona": "p" * 20_001}, "persona"),  # as long as a card's
        ({"name": "ok", "greeting": "g" * 20_001}, "greeting"),
        ({"name": "ok", "exampleDialogue": "e" * 20_001}, "exampleDialogue"),
        ({"name": "ok", "systemPrompt": "bad\u0000prompt"}, "systemPrompt"),
        ({"name": "ok", "alternateGreetings": ["hi"] * 101}, "alternateGreetings"),
        ({"name": "ok", "language": "english please"}, "language"),
        ({"name": "ok", "traits": ["t"] * 21}, "traits"),
        ({"name": "bad\u0000name"}, "name"),
    ]
    for fields, field in cases:
        error = await api.error(
            "mutation($input: CreateCompanionInput!) { createCompanion(input: $input) { id } }",
            {"input": fields},
            token,
        )
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, fields
    wrong_type = await api.error(
        "mutation($input: CreateCompanionInput!) { createCompanion(input: $input) { id } }",
        {"input": {"name": 42}},
        token,
    )
    assert wrong_type["extensions"]["code"] == "BAD_USER_INPUT"
    listed = await api.ok("{ companions { edges { node { id } } } }", token=token)
    assert listed["companions"]["edges"] == []


async def test_preferences_and_profile_are_updated(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    prefs = await api.ok(
        'mutation { setPreferences(input: {preferredName: "Addie", replyLength: "short", '
        'topicsToAvoid: ["politics"]}) { preferredName replyLength topicsToAvoid language } }',
        token=token,
    )
    assert prefs["setPreferences"] == {
        "preferredName": "Addie",
        "replyLength": "short",
        "topicsToAvoid": ["politics"],
        "language": "en",
    }
    bad = await api.error(
        'mutation { setPreferences(input: {replyLength: "epic"}) { language } }', token=token
    )
    assert bad["extensions"] == {"code": "BAD_USER_INPUT", "field": "replyLength"}
    me = await api.ok('mutation { updateMe(displayName: "Ada L.") { displayName } }', token=token)
    assert me["updateMe"]["displayName"] == "Ada L."
    billing = await api.ok(
        "{ billing { plan limits { companions } usage { companions } } }", token=token
    )
    assert billing["billing"] == {
        "plan": "free",
        "limits": {"companions": 3},
        "usage": {"companions": 0},
    }
