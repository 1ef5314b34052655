"""A card as the companion keeps it: the fields with a column, and the rest verbatim.

``rest`` is the card's ``data`` without the mapped fields (tags, creator, creator_notes,
extensions, V3's nickname and assets, fields of future versions...); ``book`` is the
``character_book`` without its entries (``None`` when the card had none). Writing a card puts
them back, so unknown fields survive an import and export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Spec = Literal["chara_card_v1", "chara_card_v2", "chara_card_v3"]

# data fields with a companion column, in the V2 spec's order.
MAPPED_TEXT = (
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "system_prompt",
    "post_history_instructions",
)
MAPPED = (*MAPPED_TEXT, "alternate_greetings", "character_book")
# Entry fields with a lorebook column; the others (id, comment, extensions, use_regex...) go
# to ``extra``.
ENTRY_FIELDS = (
    "keys",
    "secondary_keys",
    "content",
    "enabled",
    "constant",
    "selective",
    "case_sensitive",
    "insertion_order",
    "priority",
    "position",
    "name",
)


@dataclass(slots=True)
class LoreEntry:
    keys: list[str]
    content: str
    secondary_keys: list[str] = field(default_factory=list)
    enabled: bool = True
    constant: bool = False
    selective: bool = False
    case_sensitive: bool = False
    insertion_order: int = 100
    priority: int = 10
    position: str = "before_char"
    name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Card:
    name: str
    description: str = ""
    personality: str = ""
    scenario: str = ""
    first_mes: str = ""
    mes_example: str = ""
    system_prompt: str = ""
    post_history_instructions: str = ""
    alternate_greetings: list[str] = field(default_factory=list)
    entries: list[LoreEntry] = field(default_factory=list)
    book: dict[str, Any] | None = None
    rest: dict[str, Any] = field(default_factory=dict)
    spec: Spec = "chara_card_v3"  # what the file was; writing always gives V3 (and V2 in PNG)
