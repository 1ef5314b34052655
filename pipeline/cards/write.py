"""A card out: V3 JSON, the V2 copy older tools read, and a PNG carrying both.

What the card had without a column (``rest``, ``book``, each entry's ``extra``) goes back in as
it came, so unknown extensions survive. V3 requires ``group_only_greetings`` and each entry's
``use_regex``; they are added (empty, false) when the card came without them. The V2 copy leaves
out V3's own fields: V2 readers ignore what they do not know, but ``assets`` pointing into a
CharX they cannot open would only mislead them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

from pipeline.cards import limits, png
from pipeline.cards.model import Card, LoreEntry
from pipeline.cards.read import is_card_chunk

V3_ONLY = (
    "assets",
    "nickname",
    "creator_notes_multilingual",
    "source",
    "group_only_greetings",
    "creation_date",
    "modification_date",
)
V2_DEFAULTS: dict[str, Any] = {
    "creator_notes": "",
    "tags": [],
    "creator": "",
    "character_version": "",
    "extensions": {},
}


def card_v3(card: Card, now: float | None = None) -> dict[str, Any]:
    data = _data(card, use_regex=True)
    data.setdefault("group_only_greetings", [])
    # The V3 spec: a writer sets modification_date when it exports.
    data["modification_date"] = int(time.time() if now is None else now)
    return {"spec": "chara_card_v3", "spec_version": "3.0", "data": data}


def card_v2(card: Card) -> dict[str, Any]:
    data = {k: v for k, v in _data(card, use_regex=False).items() if k not in V3_ONLY}
    return {"spec": "chara_card_v2", "spec_version": "2.0", "data": data}


def _data(card: Card, *, use_regex: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": card.name,
        "description": card.description,
        "personality": card.personality,
        "scenario": card.scenario,
        "first_mes": card.first_mes,
        "mes_example": card.mes_example,
        "system_prompt": card.system_prompt,
        "post_history_instructions": card.post_history_instructions,
        "alternate_greetings": list(card.alternate_greetings),
    }
    for key, default in V2_DEFAULTS.items():
        data[key] = json.loads(json.dumps(card.rest.get(key, default)))
    data.update({k: v for k, v in card.rest.items() if k not in data})
    if card.book is not None or card.entries:
        book = dict(card.book or {})
        book.setdefault("extensions", {})
        book["entries"] = [_entry(e, use_regex) for e in card.entries]
        data["character_book"] = book
    return data


def _entry(entry: LoreEntry, use_regex: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "keys": list(entry.keys),
        "content": entry.content,
        "extensions": {},
        "enabled": entry.enabled,
        "insertion_order": entry.insertion_order,
        "case_sensitive": entry.case_sensitive,
        "name": entry.name,
        "priority": entry.priority,
        "selective": entry.selective,
        "secondary_keys": list(entry.secondary_keys),
        "constant": entry.constant,
        "position": entry.position,
    }
    if use_regex:
        out["use_regex"] = False
    out.update(entry.extra)
    return out


def card_png(card: Card, picture: bytes | None, now: float | None = None) -> bytes:
    """``picture`` (a PNG) with a ``ccv3`` and a ``chara`` chunk before IEND, any card chunks
    it had replaced; a placeholder when there is no picture. Base64 makes each copy 4/3 of the
    JSON, so when both would make the file larger than a card file may be, the V2 copy is left
    out and the PNG can still be imported here (and by every V3 reader)."""
    base = png.read_chunks(picture if picture is not None else placeholder_png(card.name))
    kept = [c for c in base if not (c.kind == b"tEXt" and is_card_chunk(c.data.split(b"\0")[0]))]
    documents = {"chara": card_v2(card), "ccv3": card_v3(card, now)}
    texts = [png.text_chunk(k, _base64_json(v)) for k, v in documents.items()]
    written = png.write_chunks(kept[:-1] + texts + kept[-1:])
    if len(written) > limits.MAX_FILE_BYTES:
        written = png.write_chunks(kept[:-1] + texts[1:] + kept[-1:])
    return written


def _base64_json(document: dict[str, Any]) -> bytes:
    return base64.b64encode(json.dumps(document, ensure_ascii=False).encode())


def placeholder_png(name: str, side: int = 256) -> bytes:
    """A 256-pixel square in two colours drawn from the name: each companion looks its own."""
    digest = hashlib.sha256(name.encode()).digest()
    back = (40 + digest[0] % 60, 40 + digest[1] % 60, 60 + digest[2] % 80)
    front = (150 + digest[3] % 100, 120 + digest[4] % 120, 150 + digest[5] % 100)
    return png.solid_png(side, side, back, front)
