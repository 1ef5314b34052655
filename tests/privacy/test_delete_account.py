"""Erasing an account: nothing of the person stays, shared conversations stay readable."""

from __future__ import annotations

import asyncio

from sqlalchemy import JSON, String, Text, select
from starlette.applications import Starlette

from store.metadata import target_metadata
from tests.privacy.seed import INVITE, Person, add_message, person_with_everything
from tests.privacy.test_export import EXPORT, wait_until_ready
from tests.support.graphql import PASSWORD, GraphQLClient

DELETE = "mutation($password: String!) { deleteMyAccount(password: $password) }"
THREAD = """
query($id: ID!) { conversation(id: $id) {
  participants { user { displayName } }
  messages(first: 50) { nodes { text role author { displayName removed } } }
} }
"""


async def leftovers(app: Starlette, person: Person) -> list[str]:
    """Every place in the database and the blob store that still names the person."""
    found = []
    async with app.state.holo.sessionmaker() as session:
        for table in target_metadata.sorted_tables:
            user_refs = [
                c
                for c in table.columns
                if any(fk.column.table.name == "users" for fk in c.foreign_keys)
                or (table.name == "users" and c.name == "id")
            ]
            texts = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            for row in (await session.execute(select(table))).mappings():
                for column in user_refs:
                    if row[column.name] == person.user_id:
                        found.append(f"{table.name}.{column.name}")
                for column in texts:
                    if person.email in str(row[column.name]):
                        found.append(f"{table.name}.{column.name} (email)")
    storage = app.state.holo.storage
    found += await storage.list_prefix(f"users/{person.user_id}")
    for key in await storage.list_prefix(""):
        if person.email.encode() in await storage.get(key):
            found.append(key)
    return found


async def test_deleting_my_account_erases_everything_of_mine(
    api: GraphQLClient, app: Starlette
) -> None:
    ada = await person_with_everything(api, app, "ada@example.com", "Ada")
    bob = await person_with_everything(api, app, "bob@example.com", "Bob")
    job = (await api.ok(EXPORT, token=ada.token))["exportMyData"]
    await wait_until_ready(api, job["id"], ada.token)
    assert "data_exports.user_id" in await leftovers(app, ada)
    # Ada takes part in Bob's conversation; the companion answers her there.
    bob_conversation = f"cnv_{bob.conversation_id}"
    await api.ok(INVITE, {"id": bob_conversation, "email": ada.email}, bob.token)
    async with app.state.holo.sessionmaker() as session:
        asked = await add_message(session, bob.conversation_id, ada.user_id, f"Ada: {ada.email}")
        await add_message(session, bob.conversation_id, None, "Companion answers", asked.id)
        await session.commit()
    erased: list[int] = []

    async def on_user_erased(user_id: int) -> None:
        erased.append(user_id)

    app.state.holo.on_user_erased = on_user_erased

    assert (await api.ok(DELETE, {"password": PASSWORD}, ada.token))["deleteMyAccount"] is True

    assert await leftovers(app, ada) == []
    assert erased == [ada.user_id]
    gone = await api.error("{ me { id } }", token=ada.token)
    assert gone["extensions"]["code"] == "UNAUTHENTICATED"
    thread = (await api.ok(THREAD, {"id": bob_conversation}, bob.token))["conversation"]
    assert [p["user"]["displayName"] for p in thread["participants"]] == ["Bob"]
    assert [(m["text"], m["author"]) for m in thread["messages"]["nodes"]] == [
        ("Hello!", None),
        ("I am Bob, bob@example.com", {"displayName": "Bob", "removed": False}),
        ("", {"displayName": "Removed user", "removed": True}),
        ("Companion answers", None),
    ]
    assert await api.ok("{ me { email } }", token=bob.token) == {"me": {"email": bob.email}}
    assert await app.state.holo.storage.list_prefix(f"users/{bob.user_id}/audio") == [bob.audio_key]


async def test_a_wrong_password_erases_nothing(api: GraphQLClient, app: Starlette) -> None:
    ada = await person_with_everything(api, app, "ada@example.com", "Ada")
    error = await api.error(DELETE, {"password": "not my password"}, ada.token)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["extensions"]["reason"] == "BAD_CREDENTIALS"
    assert await api.ok("{ me { email } }", token=ada.token) == {"me": {"email": ada.email}}
    assert await app.state.holo.storage.list_prefix(f"users/{ada.user_id}") == [ada.audio_key]


async def test_an_export_running_during_erasure_leaves_no_archive(
    api: GraphQLClient, app: Starlette
) -> None:
    ada = await person_with_everything(api, app, "ada@example.com", "Ada")
    await api.ok(EXPORT, token=ada.token)
    await api.ok(DELETE, {"password": PASSWORD}, ada.token)
    await asyncio.sleep(0.2)  # give a surviving job the time to write, if one survived
    assert await leftovers(app, ada) == []
