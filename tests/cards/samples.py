"""Cards shaped like the ones people bring, built byte by byte here (independently of the
project's own writer): a SillyTavern V2 export with a lorebook and extensions, a RisuAI-style V3
with assets, group greetings, multilingual notes and a nickname; as JSON, PNG and CharX."""

from __future__ import annotations

import base64
import io
import json
import struct
import zipfile
import zlib
from typing import Any

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sillytavern_v2() -> dict[str, Any]:
    entry_extensions = {
        "position": 0,
        "exclude_recursion": False,
        "display_index": 0,
        "probability": 100,
        "useProbability": True,
        "depth": 4,
        "selectiveLogic": 0,
        "group": "",
        "scan_depth": None,
        "match_whole_words": None,
        "sticky": 0,
        "cooldown": 0,
    }
    entries = [
        {
            "id": i,
            "keys": keys,
            "secondary_keys": secondary,
            "comment": comment,
            "content": content,
            "constant": i == 2,
            "selective": bool(secondary),
            "insertion_order": 100 + i,
            "enabled": i != 3,
            "position": "after_char" if i == 1 else "before_char",
            "use_regex": True,
            "extensions": {**entry_extensions, "display_index": i},
            "name": comment,
            "priority": 10 - i,
            "case_sensitive": i == 1,
        }
        for i, (keys, secondary, comment, content) in enumerate(
            [
                (["Eldoria", "forest"], [], "The forest", "Eldoria is an ancient, glowing forest."),
                (
                    ["Shadowfang"],
                    ["wolf", "beast"],
                    "Shadowfang",
                    "Shadowfang are corrupted wolves.",
                ),
                ([], [], "Always", "Seraphina never leaves the glade at night."),
                (["amulet"], [], "Disabled", "An old amulet, forgotten."),
            ]
        )
    ]
    return {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": "Seraphina",
            "description": "{{char}} is a guardian of Eldoria, a healer with pink hair.\n\n"
            "She speaks softly and protects travellers.",
            "personality": "caring, protective, compassionate, wise",
            "scenario": "{{user}} wakes in {{char}}'s glade after being attacked by beasts.",
            "first_mes": '*You wake up in a warm glade.*\n"Easy now," Seraphina says. '
            '"You are safe here."',
            "mes_example": "<START>\n{{user}}: Where am I?\n{{char}}: *smiles* In my glade.",
            "creator_notes": "Works best with a warm system prompt. ✨ Tested on Mistral.",
            "system_prompt": "You are {{char}}. Write one reply at a time, in third person.",
            "post_history_instructions": "Stay gentle; never speak for {{user}}.",
            "alternate_greetings": [
                "*Seraphina kneels beside you, humming.*",
                "*The glade is quiet. A soft light moves between the trees.*",
            ],
            "tags": ["Fantasy", "Female", "Healer"],
            "creator": "Kuma",
            "character_version": "1.4",
            "extensions": {
                "talkativeness": "0.5",
                "fav": False,
                "world": "Eldoria",
                "depth_prompt": {"prompt": "Seraphina is gentle.", "depth": 4, "role": "system"},
                "regex_scripts": [
                    {"scriptName": "trim", "findRegex": "/\\s+$/", "replaceString": ""}
                ],
                "chub": {"id": 12345, "full_path": "kuma/seraphina"},
            },
            "character_book": {
                "name": "Eldoria lore",
                "description": "Places and creatures of Eldoria",
                "scan_depth": 4,
                "token_budget": 512,
                "recursive_scanning": False,
                "extensions": {"st/world_info_depth": 4},
                "entries": entries,
            },
        },
    }


def risu_v3() -> dict[str, Any]:
    return {
        "spec": "chara_card_v3",
        "spec_version": "3.0",
        "data": {
            "name": "Nova Ilyanova",
            "nickname": "Nova",
            "description": "{{char}} is a starship navigator who loves old maps.",
            "personality": "curious, dry humour",
            "scenario": "On the bridge of the Meridian, on a long night watch.",
            "first_mes": "Plotting a course through the Veil. Coffee?",
            "mes_example": "<START>\n{{user}}: Are we lost?\n{{char}}: Never. Merely exploring.",
            "creator_notes": "English notes.",
            "creator_notes_multilingual": {"en": "English notes.", "ja": "日本語のメモ。"},
            "system_prompt": "",
            "post_history_instructions": "",
            "alternate_greetings": ["Navigator's log, day 212."],
            "group_only_greetings": ["Everyone, eyes on the starboard viewport."],
            "tags": ["sci-fi"],
            "creator": "mira",
            "character_version": "3",
            "source": ["https://example.com/cards/nova"],
            "creation_date": 1_700_000_000,
            "modification_date": 1_700_000_500,
            "assets": [
                {
                    "type": "icon",
                    "uri": "embeded://assets/icon/images/main.png",
                    "name": "main",
                    "ext": "png",
                },
                {
                    "type": "emotion",
                    "uri": "embeded://assets/emotion/images/happy.png",
                    "name": "happy",
                    "ext": "png",
                },
                {"type": "background", "uri": "ccdefault:", "name": "main", "ext": "png"},
            ],
            "extensions": {"risuai": {"utilityBot": False, "sdData": [["always", "solo"]]}},
            "x_future_field": {"kept": True},
            "character_book": {
                "name": "Meridian",
                "extensions": {},
                "entries": [
                    {
                        "keys": ["Veil"],
                        "content": "The Veil is a nebula that scrambles sensors.",
                        "extensions": {"risu_case_sensitive": False},
                        "enabled": True,
                        "insertion_order": 0,
                        "case_sensitive": False,
                        "use_regex": False,
                        "constant": False,
                        "name": "Veil",
                        "priority": 0,
                        "id": "veil-1",
                        "comment": "",
                        "selective": False,
                        "secondary_keys": [],
                        "position": "before_char",
                    }
                ],
            },
        },
    }


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I4s", len(data), kind) + data + struct.pack(">I", crc)


def picture(width: int = 4, height: int = 3, shade: int = 200) -> bytes:
    """A small grey RGB PNG."""
    rows = b"".join(b"\0" + bytes([shade, 100, 50]) * width for _ in range(height))
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


def text_chunk(keyword: str, document: dict[str, Any]) -> bytes:
    encoded = base64.b64encode(json.dumps(document).encode())
    return png_chunk(b"tEXt", keyword.encode() + b"\0" + encoded)


def card_png(chunks: dict[str, dict[str, Any]], image: bytes | None = None) -> bytes:
    """``image`` with one tEXt chunk per keyword, before IEND (as SillyTavern writes them)."""
    image = image or picture()
    iend = png_chunk(b"IEND", b"")
    assert image.endswith(iend)
    texts = b"".join(text_chunk(k, v) for k, v in chunks.items())
    return image[: -len(iend)] + texts + iend


def charx(card: dict[str, Any], files: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("card.json", json.dumps(card))
        for name, data in (files or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def nova_charx(icon: bytes | None = None) -> bytes:
    return charx(
        risu_v3(),
        {
            "assets/icon/images/main.png": icon or picture(shade=10),
            "assets/emotion/images/happy.png": picture(shade=250),
            "x_risu_module.json": b'{"name": "app data"}',
        },
    )


def read_png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """A strict reader written for the tests: signature, CRCs, IHDR first, IEND last, and the
    pixels decompress to exactly the rows IHDR announces (8-bit, non-interlaced)."""
    assert data.startswith(PNG_SIGNATURE)
    chunks, at = [], len(PNG_SIGNATURE)
    while at < len(data):
        length, kind = struct.unpack_from(">I4s", data, at)
        body = data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack_from(">I", data, at + 8 + length)
        assert zlib.crc32(body, zlib.crc32(kind)) == crc, kind
        chunks.append((kind, body))
        at += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    assert depth == 8 and interlace == 0
    pixels = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
    assert len(pixels) == height * (1 + width * channels)
    return chunks


def text_chunks(data: bytes) -> dict[str, dict[str, Any]]:
    found = {}
    for kind, body in read_png_chunks(data):
        if kind == b"tEXt":
            keyword, _, text = body.partition(b"\0")
            found[keyword.decode()] = json.loads(base64.b64decode(text))
    return found
