"""A card's JSON, checked field by field: each refusal names the path of what is wrong.

Accepted: V3 (``spec: "chara_card_v3"``, ``spec_version`` 3.x: the V3 spec asks newer minor
versions to import), V2 (``spec: "chara_card_v2"``, ``spec_version: "2.0"``, or none, as the
earliest V2 cards wrote) and V1 (the six flat fields, read as V2's ``data``). Missing optional
fields take their spec defaults; present ones must have the spec's type. Fields the spec does
not know are kept as they are (the V3 spec: "ignore ... but not reject").
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pipeline.cards import limits
from pipeline.cards.errors import CardError
from pipeline.cards.model import ENTRY_FIELDS, MAPPED, MAPPED_TEXT, Card, LoreEntry, Spec

# C0 controls other than tab, newline and carriage return, DEL, and lone surrogates (which
# neither UTF-8 nor PostgreSQL can store): the same characters companion fields refuse.
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
MAX_DEPTH = 64  # levels of JSON; extensions in real cards use under ten
V1_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")


def parse_json_bytes(raw: bytes, field: str = "file") -> Card:
    """Decode UTF-8 JSON (a byte-order mark is allowed) and read it as a card."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CardError(
            "Not a character card: the file is not UTF-8 JSON, PNG or CharX", field
        ) from e
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        raise CardError("Not a character card: the file is not JSON, PNG or CharX", field) from e
    return parse_card(document)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_card(document: Any) -> Card:
    if not isinstance(document, dict):
        raise CardError("Not a character card: expected a JSON object", "file")
    _check_strings(document, "")
    spec = document.get("spec")
    if spec is None:
        if isinstance(document.get("name"), str) and any(k in document for k in V1_FIELDS[1:]):
            return _card(document, "", "chara_card_v1")
        raise CardError("Not a character card: no spec and no V1 fields", "spec")
    if spec == "chara_card_v3":
        version = document.get("spec_version")
        if not isinstance(version, str) or not _major(version, 3):
            raise CardError('A V3 card\'s spec_version must be "3.0"', "spec_version")
        return _card(_object(document.get("data"), "data"), "data.", "chara_card_v3")
    if spec == "chara_card_v2":
        version = document.get("spec_version", "2.0")
        if version != "2.0":
            raise CardError('A V2 card\'s spec_version must be "2.0"', "spec_version")
        return _card(_object(document.get("data"), "data"), "data.", "chara_card_v2")
    raise CardError("Not a character card: spec must be chara_card_v2 or chara_card_v3", "spec")


def _major(version: str, major: int) -> bool:
    try:
        value = float(version)
    except ValueError:
        return False
    return math.isfinite(value) and major <= value < major + 1


def _card(data: dict[str, Any], at: str, spec: Spec) -> Card:
    texts = {
        key: _text(
            data.get(key, ""), at + key, limits.MAX_NAME if key == "name" else limits.MAX_TEXT
        )
        for key in MAPPED_TEXT
    }
    name = texts.pop("name").strip()
    if not name:
        raise CardError("The character needs a name", at + "name")
    greetings = _texts(data.get("alternate_greetings", []), at + "alternate_greetings")
    rest = {k: v for k, v in data.items() if k not in MAPPED}
    _check_known(rest, at)
    if len(json.dumps(rest, ensure_ascii=False)) > limits.MAX_EXTRA_JSON:
        raise CardError(
            f"The card's other fields (extensions...) exceed {limits.MAX_EXTRA_JSON} bytes",
            at + "extensions",
        )
    book: dict[str, Any] | None = None
    entries: list[LoreEntry] = []
    if data.get("character_book") is not None:
        book, entries = _book(data["character_book"], at + "character_book")
    return Card(
        name=name,
        alternate_greetings=greetings,
        entries=entries,
        book=book,
        rest=rest,
        spec=spec,
        **texts,
    )


def _check_known(rest: dict[str, Any], at: str) -> None:
    """Fields of V2/V3 without a column still have the spec's types and sane sizes."""
    for key in ("creator_notes",):
        if key in rest:
            _text(rest[key], at + key, limits.MAX_TEXT)
    for key in ("creator", "character_version", "nickname"):
        if key in rest:
            _text(rest[key], at + key, limits.MAX_SHORT)
    if "tags" in rest:
        _texts(rest["tags"], at + "tags", limits.MAX_SHORT)
    if "group_only_greetings" in rest:
        _texts(rest["group_only_greetings"], at + "group_only_greetings")
    if "source" in rest:
        _texts(rest["source"], at + "source", limits.MAX_KEY)
    if "extensions" in rest:
        _object(rest["extensions"], at + "extensions")
    if "creator_notes_multilingual" in rest:
        notes = _object(rest["creator_notes_multilingual"], at + "creator_notes_multilingual")
        for lang, note in notes.items():
            _text(note, f"{at}creator_notes_multilingual.{lang}", limits.MAX_TEXT)
    for key in ("creation_date", "modification_date"):
        if key in rest and not _is_number(rest[key]):
            raise CardError("Must be a number (Unix seconds)", at + key)
    if "assets" in rest:
        assets = _list(rest["assets"], at + "assets")
        for i, asset in enumerate(assets):
            where = f"{at}assets[{i}]"
            item = _object(asset, where)
            for part in ("type", "uri", "name", "ext"):
                if part not in item:
                    raise CardError("An asset needs type, uri, name and ext", f"{where}.{part}")
                # A data: URI holds the asset itself; the whole file is bounded anyway.
                _text(item[part], f"{where}.{part}", limits.MAX_FILE_BYTES)


def _book(value: Any, at: str) -> tuple[dict[str, Any], list[LoreEntry]]:
    book = dict(_object(value, at))
    raw_entries = _list(book.pop("entries", []), at + ".entries", limits.MAX_ENTRIES)
    for key in ("name", "description"):
        if key in book:
            _text(book[key], f"{at}.{key}", limits.MAX_TEXT)
    for key in ("scan_depth", "token_budget"):
        if key in book and book[key] is not None and not _is_number(book[key]):
            raise CardError("Must be a number", f"{at}.{key}")
    if "recursive_scanning" in book and book["recursive_scanning"] is not None:
        _bool(book["recursive_scanning"], f"{at}.recursive_scanning")
    if "extensions" in book:
        _object(book["extensions"], f"{at}.extensions")
    entries = [_entry(e, f"{at}.entries[{i}]") for i, e in enumerate(raw_entries)]
    return book, entries


def _entry(value: Any, at: str) -> LoreEntry:
    raw = _object(value, at)
    entry = LoreEntry(
        keys=_texts(raw.get("keys", []), at + ".keys", limits.MAX_KEY),
        content=_text(raw.get("content", ""), at + ".content", limits.MAX_TEXT),
        extra={k: v for k, v in raw.items() if k not in ENTRY_FIELDS},
    )
    # null is how some editors write "not set": the default stands.
    if raw.get("secondary_keys") is not None:
        entry.secondary_keys = _texts(raw["secondary_keys"], at + ".secondary_keys", limits.MAX_KEY)
    for flag in ("enabled", "constant", "selective", "case_sensitive"):
        if raw.get(flag) is not None:
            setattr(entry, flag, _bool(raw[flag], f"{at}.{flag}"))
    for number in ("insertion_order", "priority"):
        if raw.get(number) is not None:
            setattr(entry, number, _int(raw[number], f"{at}.{number}"))
    if raw.get("position") is not None:
        entry.position = _text(raw["position"], at + ".position", limits.MAX_POSITION)
    if raw.get("name") is not None:
        entry.name = _text(raw["name"], at + ".name", limits.MAX_SHORT)
    if "extensions" in raw:
        _object(raw["extensions"], at + ".extensions")
    return entry


def _object(value: Any, at: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CardError("Must be an object", at)
    return value


def _list(value: Any, at: str, max_items: int = limits.MAX_ITEMS) -> list[Any]:
    if not isinstance(value, list):
        raise CardError("Must be a list", at)
    if len(value) > max_items:
        raise CardError(f"At most {max_items} items", at)
    return value


def _text(value: Any, at: str, max_len: int) -> str:
    if not isinstance(value, str):
        raise CardError("Must be a string", at)
    if len(value) > max_len:
        raise CardError(f"Must be at most {max_len} characters", at)
    return value


def _texts(value: Any, at: str, max_len: int = limits.MAX_TEXT) -> list[str]:
    return [_text(v, f"{at}[{i}]", max_len) for i, v in enumerate(_list(value, at))]


def _bool(value: Any, at: str) -> bool:
    if not isinstance(value, bool):
        raise CardError("Must be true or false", at)
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _int(value: Any, at: str) -> int:
    if not _is_number(value) or value != int(value) or abs(value) > limits.MAX_INT:
        raise CardError(f"Must be a whole number within ±{limits.MAX_INT}", at)
    return int(value)


def _check_strings(value: Any, at: str) -> None:
    """Every string of the card, keys included: no control characters or lone surrogates."""
    stack: list[tuple[Any, str, int]] = [(value, at, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise CardError(f"Nested deeper than {MAX_DEPTH} levels", where or "file")
        if isinstance(item, str):
            if _BAD_CHARS.search(item):
                raise CardError("Control characters are not allowed", where or "file")
        elif isinstance(item, dict):
            for key, child in item.items():
                path = f"{where}.{key}" if where else str(key)
                if _BAD_CHARS.search(key):
                    raise CardError("Control characters are not allowed", path)
                stack.append((child, path, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item))
