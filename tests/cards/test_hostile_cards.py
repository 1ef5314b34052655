"""Files that are not good cards answer BAD_USER_INPUT naming the field, and store nothing:
no companion, no lorebook row, no picture."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from api.settings import Settings
from schema import ids
from store.models import Companion, LorebookEntry
from tests.cards.api import COMPANION_COUNT, import_card
from tests.cards.samples import (
    PNG_SIGNATURE,
    card_png,
    charx,
    picture,
    png_chunk,
    risu_v3,
    sillytavern_v2,
)
from tests.support.graphql import GraphQLClient, register


def v2_with(change: Callable[[dict[str, Any]], None]) -> bytes:
    card = sillytavern_v2()
    change(card)
    return json.dumps(card).encode()


def broken_crc() -> bytes:
    data = bytearray(card_png({"chara": sillytavern_v2()}))
    data[data.index(b"tEXt") + 20] ^= 0x01  # one bit of the card's text
    return bytes(data)


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def too_many_entries(card: dict[str, Any]) -> None:
    entry = card["data"]["character_book"]["entries"][0]
    card["data"]["character_book"]["entries"] = [entry] * 501


def set_data(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda card: card["data"].__setitem__(key, value)


V3 = json.dumps(risu_v3()).encode()
HOSTILE: dict[str, tuple[bytes, str]] = {
    "empty file": (b"", "file"),
    "not JSON": (b"Seraphina, a healer from Eldoria.\n", "file"),
    "JSON that is not a card": (b'{"title": "my notes", "items": [1, 2]}', "spec"),
    "a JSON list": (b"[1, 2, 3]", "file"),
    "V2 without data": (b'{"spec": "chara_card_v2", "spec_version": "2.0"}', "data"),
    "V2 with a wrong spec_version": (
        v2_with(lambda c: c.update(spec_version="9.9")),
        "spec_version",
    ),
    "V3 with a wrong spec_version": (V3.replace(b'"3.0"', b'"2.0"', 1), "spec_version"),
    "an unknown spec": (v2_with(lambda c: c.update(spec="chara_card_v9")), "spec"),
    "a PNG with a broken CRC": (broken_crc(), "file"),
    "a truncated PNG": (card_png({"chara": sillytavern_v2()})[:-40], "file"),
    "a PNG signature and nothing else": (PNG_SIGNATURE, "file"),
    "a PNG without a card": (picture(), "file"),
    "a PNG whose chunk is not base64": (
        card_png({})[:-12] + png_chunk(b"tEXt", b"chara\0not base64!") + png_chunk(b"IEND", b""),
        "chara",
    ),
    "a PNG of 100000 x 1 pixels": (
        PNG_SIGNATURE
        + png_chunk(
            b"IHDR", (100_000).to_bytes(4, "big") + (1).to_bytes(4, "big") + b"\x08\2\0\0\0"
        )
        + png_chunk(b"IEND", b""),
        "file",
    ),
    "a description over 20,000 characters": (
        v2_with(set_data("description", "x" * 20_001)),
        "data.description",
    ),
    "a name over 80 characters": (v2_with(set_data("name", "N" * 81)), "data.name"),
    "no name": (v2_with(set_data("name", "  ")), "data.name"),
    "a NUL in the name": (v2_with(set_data("name", "Sera\0phina")), "data.name"),
    "greetings that are not a list": (
        v2_with(set_data("alternate_greetings", "hi")),
        "data.alternate_greetings",
    ),
    "a number where a string goes": (v2_with(set_data("first_mes", 7)), "data.first_mes"),
    "extensions that are not an object": (v2_with(set_data("extensions", [])), "data.extensions"),
    "501 lorebook entries": (v2_with(too_many_entries), "data.character_book.entries"),
    "an entry's keys as a string": (
        v2_with(lambda c: c["data"]["character_book"]["entries"][3].update(keys="amulet")),
        "data.character_book.entries[3].keys",
    ),
    "an entry's insertion_order as text": (
        v2_with(lambda c: c["data"]["character_book"]["entries"][0].update(insertion_order="1")),
        "data.character_book.entries[0].insertion_order",
    ),
    "a zip bomb": (
        zip_of({"card.json": V3, "assets/other/other/bomb.bin": bytes(40 * 1024 * 1024)}),
        "file",
    ),
    "zip path traversal": (charx(risu_v3(), {"../../etc/cron.d/evil": b"x"}), "file"),
    "a zip of 1001 files": (
        zip_of({"card.json": V3, **{f"assets/other/{i}": b"" for i in range(1000)}}),
        "file",
    ),
    "a CharX without card.json": (zip_of({"cards.json": V3}), "card.json"),
    "a CharX holding a V2 card": (zip_of({"card.json": v2_with(lambda c: None)}), "spec"),
    "a file over 8 MiB": (b" " * (8 * 1024 * 1024) + V3, "file"),
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Many uploads in one test: the per-account request limit is not under test."""
    return settings.model_copy(update={"rate_limit_account": "", "rate_limit_ip": ""})


async def test_every_hostile_card_is_refused_naming_its_field_and_nothing_is_stored(
    app: Starlette, api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    account = await register(api, "ada@example.com")
    token, user_id = account["accessToken"], ids.decode("User", account["user"]["id"])
    for label, (raw, field) in HOSTILE.items():
        body = await import_card(http, token, raw)
        assert body.get("data") is None, (label, body)
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (label, error)
        assert error["extensions"]["field"] == field, (label, error)
    assert (await api.ok(COMPANION_COUNT, token=token))["companions"]["nodes"] == []
    async with app.state.holo.sessionmaker() as session:
        for model in (Companion, LorebookEntry):
            assert await session.scalar(select(func.count()).select_from(model)) == 0
    assert await app.state.holo.storage.list_prefix(f"users/{user_id}") == []
