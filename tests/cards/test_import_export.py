"""A person brings their character as a card file and gets a companion with its persona,
greetings, lorebook and picture; exporting gives the card back, unknown fields included."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from pipeline.cards import read_card
from schema import ids
from store.models import Companion, LorebookEntry
from tests.cards.api import COMPANION, EXPORT, export, import_card, imported
from tests.cards.samples import (
    card_png,
    nova_charx,
    picture,
    read_png_chunks,
    risu_v3,
    sillytavern_v2,
    text_chunks,
)
from tests.privacy.test_export import EXPORT as EXPORT_MY_DATA
from tests.privacy.test_export import wait_until_ready
from tests.support.graphql import GraphQLClient, register


def unsigned(companion: dict[str, object]) -> dict[str, object]:
    url = str(companion["pictureUrl"])
    return {**companion, "pictureUrl": url.split("?", 1)[0]}


def without_dates(data: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in data.items() if k != "modification_date"}


async def test_a_sillytavern_card_becomes_a_companion_with_every_field(
    app: Starlette, api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    card = sillytavern_v2()
    data = card["data"]
    made = await imported(http, token, card_png({"chara": card}, picture(5, 4)))
    companion = (await api.ok(COMPANION, {"id": made["id"]}, token))["companion"]
    # The same companion, read again; its picture's URL is signed anew (its expiry may tick).
    assert unsigned(companion) == unsigned(made)
    assert companion["name"] == "Seraphina"
    assert companion["persona"] == data["description"]
    assert companion["personality"] == data["personality"]
    assert companion["scenario"] == data["scenario"]
    assert companion["greeting"] == data["first_mes"]
    assert companion["alternateGreetings"] == data["alternate_greetings"]
    assert companion["exampleDialogue"] == data["mes_example"]
    assert companion["systemPrompt"] == data["system_prompt"]
    assert companion["postHistoryInstructions"] == data["post_history_instructions"]
    assert companion["lorebookEntryCount"] == 4
    # The picture is the PNG's image, without the card, served at a signed URL.
    shown = await http.get(companion["pictureUrl"])
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"
    assert shown.content == picture(5, 4)
    async with app.state.holo.sessionmaker() as session:
        rows = (
            await session.scalars(
                select(LorebookEntry)
                .where(LorebookEntry.companion_id == ids.decode("Companion", made["id"]))
                .order_by(LorebookEntry.id)
            )
        ).all()
    wolves = data["character_book"]["entries"][1]
    assert rows[1].keys == ["Shadowfang"] and rows[1].secondary_keys == ["wolf", "beast"]
    assert (rows[1].selective, rows[1].case_sensitive, rows[1].position) == (
        True,
        True,
        "after_char",
    )
    assert (rows[1].insertion_order, rows[1].priority, rows[1].name) == (101, 9, "Shadowfang")
    assert rows[1].content == wolves["content"]
    assert rows[1].extra == {
        "id": 1,
        "comment": "Shadowfang",
        "use_regex": True,
        "extensions": wolves["extensions"],
    }
    assert rows[2].constant and not rows[3].enabled


async def test_import_then_export_gives_back_every_field(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    v2, v3 = sillytavern_v2(), risu_v3()
    sources = {
        "V2 JSON": (json.dumps(v2).encode(), v2),
        "V2 PNG (chara)": (card_png({"chara": v2}), v2),
        "V3 JSON": (json.dumps(v3).encode(), v3),
        "V3 PNG (ccv3 and chara)": (card_png({"chara": v2, "ccv3": v3}), v3),
        "V3 CharX": (nova_charx(), v3),
    }
    for label, (raw, original) in sources.items():
        made = await imported(http, token, raw)
        expected = dict(original["data"])
        expected.setdefault("group_only_greetings", [])
        before = datetime.now(UTC)
        described, body = await export(api, http, token, made["id"], "JSON")
        assert described["format"] == "JSON" and described["filename"].endswith(".json")
        assert datetime.fromisoformat(described["expiresAt"]) > before
        card = json.loads(body)
        assert (card["spec"], card["spec_version"]) == ("chara_card_v3", "3.0"), label
        assert without_dates(card["data"]) == without_dates(expected), label
        described, body = await export(api, http, token, made["id"], "PNG")
        assert described["filename"].endswith(".png")
        chunks = text_chunks(body)  # the tests' own strict reader: CRCs and pixel rows
        assert without_dates(chunks["ccv3"]["data"]) == without_dates(expected), label
        if original is v2:  # V2 readers get the card they gave
            assert chunks["chara"] == v2, label
        again = read_card(body)  # the project's reader takes its own PNG back
        assert again.card.name == original["data"]["name"]
        await api.ok("mutation($id: ID!) { deleteCompanion(id: $id) }", {"id": made["id"]}, token)


async def test_the_exported_png_is_the_companions_picture_or_a_placeholder(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    with_picture = await imported(http, token, card_png({"chara": sillytavern_v2()}, picture(8, 2)))
    _, body = await export(api, http, token, with_picture["id"], "PNG")
    kept = [(k, b) for k, b in read_png_chunks(body) if k != b"tEXt"]
    assert [k for k, _ in read_png_chunks(picture(8, 2))] == [k for k, _ in kept]
    without = await imported(http, token, json.dumps(risu_v3()).encode())
    assert without["pictureUrl"] is None
    _, body = await export(api, http, token, without["id"], "PNG")
    assert read_png_chunks(body)[0][1][:8] == (256).to_bytes(4, "big") * 2


async def test_a_companion_made_by_hand_exports_as_a_card(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    created = await api.ok(
        """mutation($input: CreateCompanionInput!) { createCompanion(input: $input) { id } }""",
        {
            "input": {
                "name": "Mira",
                "persona": "A cheerful botanist.",
                "greeting": "Hello! " * 500,  # over the old 1,000-character limit
                "scenario": "A greenhouse at dawn.",
                "alternateGreetings": ["Morning!"],
            }
        },
        token,
    )
    companion_id = created["createCompanion"]["id"]
    updated = await api.ok(
        """mutation($id: ID!, $input: UpdateCompanionInput!) {
          updateCompanion(id: $id, input: $input) { personality systemPrompt exampleDialogue }
        }""",
        {
            "id": companion_id,
            "input": {
                "personality": "patient",
                "systemPrompt": "Speak as {{char}}.",
                "exampleDialogue": "<START>\n{{user}}: Hi\n{{char}}: Hello!",
            },
        },
        token,
    )
    assert updated["updateCompanion"]["personality"] == "patient"
    _, body = await export(api, http, token, companion_id, "JSON")
    data = json.loads(body)["data"]
    assert data["personality"] == "patient" and data["system_prompt"] == "Speak as {{char}}."
    assert data["mes_example"] == "<START>\n{{user}}: Hi\n{{char}}: Hello!"
    assert data["name"] == "Mira" and data["description"] == "A cheerful botanist."
    assert data["first_mes"] == ("Hello! " * 500).strip()
    assert data["alternate_greetings"] == ["Morning!"] and data["extensions"] == {}
    assert "character_book" not in data


async def test_a_strangers_companion_cannot_be_exported(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    ada = (await register(api, "ada@example.com"))["accessToken"]
    bob = (await register(api, "bob@example.com"))["accessToken"]
    theirs = await imported(http, bob, json.dumps(sillytavern_v2()).encode())
    for format in ("JSON", "PNG"):
        error = await api.error(EXPORT, {"id": theirs["id"], "format": format}, ada)
        assert error["extensions"]["code"] == "NOT_FOUND"
        missing = await api.error(EXPORT, {"id": "cmp_999999", "format": format}, ada)
        assert missing["message"] == error["message"]


async def test_the_picture_goes_with_the_companion_and_with_the_account(
    app: Starlette, api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    account = await register(api, "ada@example.com")
    token, user_id = account["accessToken"], ids.decode("User", account["user"]["id"])
    storage = app.state.holo.storage
    first = await imported(http, token, nova_charx())
    second = await imported(http, token, card_png({"chara": sillytavern_v2()}))
    await export(api, http, token, first["id"], "PNG")
    first_pk = ids.decode("Companion", first["id"])
    assert len(await storage.list_prefix(f"users/{user_id}/companions/{first_pk}")) == 2
    await api.ok("mutation($id: ID!) { deleteCompanion(id: $id) }", {"id": first["id"]}, token)
    assert await storage.list_prefix(f"users/{user_id}/companions/{first_pk}") == []
    assert (await http.get(first["pictureUrl"])).status_code == 404
    async with app.state.holo.sessionmaker() as session:
        left = (await session.scalars(select(LorebookEntry.companion_id))).all()
    assert set(left) == {ids.decode("Companion", second["id"])}
    await api.ok(
        "mutation($p: String!) { deleteMyAccount(password: $p) }",
        {"p": "correct horse battery"},
        token,
    )
    assert await storage.list_prefix(f"users/{user_id}") == []
    async with app.state.holo.sessionmaker() as session:
        assert (await session.scalars(select(LorebookEntry))).all() == []
        assert (await session.scalars(select(Companion))).all() == []


async def test_plan_limits_on_companions_apply_to_imports(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    for _ in range(3):  # the free plan's companions
        await imported(http, token, json.dumps(sillytavern_v2()).encode())
    body = await import_card(http, token, card_png({"chara": sillytavern_v2()}))
    assert body["errors"][0]["extensions"]["code"] == "QUOTA_EXCEEDED"
    assert body["errors"][0]["extensions"]["limit"] == "companions"


async def test_my_data_export_holds_the_lorebook_and_the_picture(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    made = await imported(http, token, card_png({"chara": sillytavern_v2()}, picture(3, 3)))
    job = (await api.ok(EXPORT_MY_DATA, token=token))["exportMyData"]
    ready = await wait_until_ready(api, job["id"], token)
    archive = zipfile.ZipFile(io.BytesIO((await http.get(ready["url"])).content))
    data = json.loads(archive.read("data.json"))
    (companion,) = data["companions"]
    assert companion["card_data"]["extensions"]["world"] == "Eldoria"
    assert [e["name"] for e in data["lorebook_entries"]] == [
        "The forest",
        "Shadowfang",
        "Always",
        "Disabled",
    ]
    pk = ids.decode("Companion", made["id"])
    assert data["picture_files"] == [f"pictures/{pk}.png"]
    assert archive.read(f"pictures/{pk}.png") == picture(3, 3)
