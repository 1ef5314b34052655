"""Opaque, typed object ids (``cmp_12``): a wrong-type or malformed id reads as NOT_FOUND."""

from __future__ import annotations

from typing import Final

from services.errors import NotFound

PREFIXES: Final = {
    "User": "usr",
    "Companion": "cmp",
    "Conversation": "cnv",
    "Message": "msg",
    "HologramDevice": "dev",
    "VoiceProfile": "vce",
    "CharacterAsset": "chr",
    "AnimationSequence": "anm",
    "DataExport": "dxp",
    "Memory": "mem",
}


def encode(kind: str, pk: int) -> str:
    return f"{PREFIXES[kind]}_{pk}"


def decode(kind: str, value: str) -> int:
    prefix, _, number = str(value).partition("_")
    # ASCII digits only ("²".isdigit() is true, int("²") fails), short enough for a BIGINT.
    if prefix != PREFIXES[kind] or not (number.isascii() and number.isdigit()) or len(number) > 18:
        raise NotFound(_label(kind))
    return int(number)


def _label(kind: str) -> str:
    return {
        "HologramDevice": "Device",
        "VoiceProfile": "Voice profile",
        "DataExport": "Data export",
    }.get(kind, kind)
