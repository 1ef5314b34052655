"""Card files read and written without the API: every field survives JSON, PNG and CharX, and
the PNG written is a valid picture the same reader (and an independent one) accepts."""

from __future__ import annotations

import copy
import io
import json
import random
import string
import zipfile
from typing import Any

import pytest

from pipeline.cards import CardError, card_png, card_v2, card_v3, read_card
from tests.cards.samples import card_png as sample_png
from tests.cards.samples import (
    charx,
    nova_charx,
    picture,
    read_png_chunks,
    risu_v3,
    sillytavern_v2,
    text_chunks,
)

NOW = 1_750_000_000


def without_dates(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "modification_date"}


def test_a_sillytavern_v2_card_comes_back_whole_as_v3_and_as_v2() -> None:
    original = sillytavern_v2()
    card = read_card(json.dumps(original).encode()).card
    v3 = card_v3(card, now=NOW)
    assert v3["spec"] == "chara_card_v3" and v3["spec_version"] == "3.0"
    assert v3["data"]["modification_date"] == NOW
    assert v3["data"]["group_only_greetings"] == []  # required by V3, absent from V2
    expected = {**original["data"], "group_only_greetings": []}
    assert without_dates(v3["data"]) == expected
    assert card_v2(card) == original


def test_a_v3_card_with_assets_and_new_fields_comes_back_whole() -> None:
    original = risu_v3()
    card = read_card(json.dumps(original).encode()).card
    assert card.spec == "chara_card_v3"
    assert without_dates(card_v3(card, now=NOW)["data"]) == without_dates(original["data"])
    v2 = card_v2(card)["data"]
    assert "assets" not in v2 and "group_only_greetings" not in v2 and "nickname" not in v2
    assert v2["extensions"] == original["data"]["extensions"]


def test_a_png_prefers_ccv3_and_its_picture_is_kept_without_the_card() -> None:
    v3, v2 = risu_v3(), sillytavern_v2()
    image = picture(7, 5)
    both = read_card(sample_png({"chara": v2, "ccv3": v3}, image))
    assert both.format == "png" and both.card.name == "Nova Ilyanova"
    assert both.picture is not None and both.picture.data == image  # card chunks stripped
    only_v2 = read_card(sample_png({"chara": v2}, image))
    assert only_v2.card.name == "Seraphina" and only_v2.card.spec == "chara_card_v2"


def test_an_exported_png_carries_both_chunks_and_reads_back_the_same() -> None:
    for original in (sillytavern_v2(), risu_v3()):
        card = read_card(json.dumps(original).encode()).card
        written = card_png(card, picture(9, 9), now=NOW)
        chunks = text_chunks(written)  # the tests' own strict reader: CRCs, pixel rows
        assert set(chunks) == {"ccv3", "chara"}
        assert chunks["ccv3"] == card_v3(card, now=NOW)
        assert chunks["chara"] == card_v2(card)
        again = read_card(written)
        assert card_v3(again.card, now=NOW) == card_v3(card, now=NOW)
        assert again.picture is not None and again.picture.data == picture(9, 9)


def test_without_a_picture_the_png_is_a_placeholder_of_its_own() -> None:
    card = read_card(json.dumps(sillytavern_v2()).encode()).card
    written = card_png(card, None, now=NOW)
    chunks = read_png_chunks(written)
    assert chunks[0][1][:8] == b"\x00\x00\x01\x00\x00\x00\x01\x00"  # 256 x 256
    image = sum(len(body) for kind, body in chunks if kind != b"tEXt")
    assert image < 2048  # a couple of kilobytes: the card is what the file carries
    other = read_png_chunks(card_png(read_card(json.dumps(risu_v3()).encode()).card, None))
    assert other[1] != chunks[1]  # another name, other colours


def test_a_charx_gives_its_card_and_main_icon() -> None:
    icon = picture(6, 6, shade=10)
    found = read_card(nova_charx(icon))
    assert found.format == "charx"
    assert found.picture is not None and found.picture.data == icon
    assert without_dates(card_v3(found.card, now=NOW)["data"]) == without_dates(risu_v3()["data"])


def test_a_v1_card_reads_as_v2_data() -> None:
    v1 = {
        "name": "Old Timer",
        "description": "A card from early 2023.",
        "personality": "grumpy",
        "scenario": "",
        "first_mes": "Hmph.",
        "mes_example": "",
    }
    card = read_card(json.dumps(v1).encode()).card
    assert card.spec == "chara_card_v1"
    assert {k: v for k, v in card_v2(card)["data"].items() if k in v1} == v1


def refusal(raw: bytes) -> CardError:
    with pytest.raises(CardError) as caught:
        read_card(raw)
    return caught.value


def zipped(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_bombs_are_refused_from_the_directory_alone() -> None:
    card = json.dumps(risu_v3()).encode()
    ratio = refusal(zipped({"card.json": card, "assets/other/x.bin": bytes(40 * 1024 * 1024)}))
    assert "compressed suspiciously well" in ratio.message
    total = refusal(zipped({"card.json": card, **{f"f{i}": bytes(1024 * 1024) for i in range(70)}}))
    assert "more than 64 MiB" in total.message
    many = refusal(zipped({"card.json": card, **{f"a/{i}": b"" for i in range(1000)}}))
    assert "more than 1000 files" in many.message
    # A card.json whose directory claims fewer bytes than it inflates to is read no further.
    liar = bytearray(zipped({"card.json": card}))
    central = liar.index(b"PK\x01\x02")
    liar[central + 24 : central + 28] = (100).to_bytes(4, "little")
    assert refusal(bytes(liar)).field == "card.json"


@pytest.mark.parametrize("name", ["../card.json", "/etc/passwd", "a/../../b", "C:/x", "a\\b"])
def test_zip_names_that_could_escape_a_folder_are_refused(name: str) -> None:
    error = refusal(charx(risu_v3(), {name: b"x"}))
    assert error.field == "file" and "unsafe file name" in error.message


def test_a_bad_field_is_named_by_its_path() -> None:
    card = sillytavern_v2()
    card["data"]["character_book"]["entries"][3]["keys"] = "amulet"
    assert refusal(json.dumps(card).encode()).field == "data.character_book.entries[3].keys"
    card = copy.deepcopy(risu_v3())
    card["data"]["assets"][0]["uri"] = 7
    assert refusal(json.dumps(card).encode()).field == "data.assets[0].uri"
    card = risu_v3()
    card["data"]["extensions"] = {"deep": json.loads("[" * 100 + "]" * 100)}
    assert refusal(json.dumps(card).encode()).message.startswith("Nested deeper")


def test_a_card_near_the_limits_exports_as_a_png_that_imports_again() -> None:
    rng = random.Random(5)
    card = sillytavern_v2()
    entry = card["data"]["character_book"]["entries"][0]
    card["data"]["character_book"]["entries"] = [
        {**entry, "id": i, "content": "".join(rng.choices(string.ascii_letters + " ", k=20_000))}
        for i in range(200)
    ]
    raw = json.dumps(card).encode()
    assert 4_000_000 < len(raw) < 8 * 1024 * 1024
    written = card_png(read_card(raw).card, None)
    assert len(written) <= 8 * 1024 * 1024
    assert set(text_chunks(written)) == {"ccv3"}  # the V2 copy would not have fitted
    assert len(read_card(written).card.entries) == 200
