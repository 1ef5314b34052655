"""Any card file in: the format is told by its first bytes (PNG signature, zip header, else
JSON), so a misnamed file still imports."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Literal

from pipeline.cards import charx, limits, png
from pipeline.cards.errors import CardError
from pipeline.cards.model import Card
from pipeline.cards.parse import parse_json_bytes

# tEXt chunks a card writer adds; stripped from the stored picture so it is only the image.
CARD_CHUNKS = ("chara", "ccv3")
ASSET_CHUNK_PREFIX = "chara-ext-asset_"
IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


@dataclass(frozen=True, slots=True)
class Picture:
    data: bytes
    ext: Literal["png", "jpeg", "webp"]

    @property
    def mime_type(self) -> str:
        return IMAGE_TYPES[self.ext]


@dataclass(frozen=True, slots=True)
class CardFile:
    card: Card
    picture: Picture | None
    format: Literal["json", "png", "charx"]


def read_card(raw: bytes) -> CardFile:
    if not raw:
        raise CardError("The file is empty")
    if len(raw) > limits.MAX_FILE_BYTES:
        raise CardError(f"A card file may be at most {limits.MAX_FILE_BYTES // (1024 * 1024)} MiB")
    if raw.startswith(png.SIGNATURE):
        return _from_png(raw)
    if raw.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _from_charx(raw)
    return CardFile(parse_json_bytes(raw), None, "json")


def _from_png(raw: bytes) -> CardFile:
    chunks = png.read_chunks(raw)
    texts = png.text_chunks(chunks)
    # The V3 spec: when both are present, ccv3 is the card; chara is a V2 copy for old tools.
    keyword = "ccv3" if "ccv3" in texts else "chara" if "chara" in texts else None
    if keyword is None:
        raise CardError("Not a character card: the PNG has no ccv3 or chara text chunk")
    try:
        document = base64.b64decode(b"".join(texts[keyword].split()), validate=True)
    except (binascii.Error, ValueError) as e:
        raise CardError(f"The PNG's {keyword} chunk is not base64", keyword) from e
    card = parse_json_bytes(document, keyword)
    kept = [
        c for c in chunks if not (c.kind == b"tEXt" and is_card_chunk(c.data.partition(b"\0")[0]))
    ]
    return CardFile(card, Picture(png.write_chunks(kept), "png"), "png")


def is_card_chunk(keyword: bytes) -> bool:
    name = keyword.decode("latin-1")
    return name in CARD_CHUNKS or name.startswith(ASSET_CHUNK_PREFIX)


def _from_charx(raw: bytes) -> CardFile:
    with charx.open_charx(raw) as archive:
        document = charx.read_entry(archive, charx.CARD, limits.MAX_FILE_BYTES, "card.json")
        card = parse_json_bytes(document, "card.json")
        if card.spec != "chara_card_v3":
            raise CardError("A CharX's card.json must be a V3 card", "spec")
        picture = None
        found = _main_icon(card.rest.get("assets"))
        # An icon the zip lacks, or in a format the apps may not show (AVIF...), leaves the
        # companion without a picture; its asset entry stays in the card for export.
        if found is not None and found[0] in archive.namelist():
            path, at = found
            data = charx.read_entry(archive, path, limits.MAX_FILE_BYTES, at)
            picture = image(data, at)
    return CardFile(card, picture, "charx")


def _main_icon(assets: Any) -> tuple[str, str] | None:
    """The embedded main icon's path in the zip, and the card field naming it: the icon named
    ``main``, else the first icon (the V3 spec's rule)."""
    if not isinstance(assets, list):
        return None
    icons = [(i, a) for i, a in enumerate(assets) if a.get("type") == "icon"]
    main = [(i, a) for i, a in icons if a.get("name") == "main"] or icons[:1]
    for i, asset in main:
        uri = asset.get("uri", "")
        if uri.startswith("embeded://"):
            return uri.removeprefix("embeded://"), f"data.assets[{i}].uri"
    return None


def image(data: bytes, field: str) -> Picture | None:
    """A picture the apps can show: PNG (checked chunk by chunk), JPEG or WebP by signature."""
    if data.startswith(png.SIGNATURE):
        try:
            png.read_chunks(data)
        except CardError as e:
            raise CardError(e.message, field) from e
        return Picture(data, "png")
    if data.startswith(b"\xff\xd8\xff"):
        return Picture(data, "jpeg")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Picture(data, "webp")
    return None
