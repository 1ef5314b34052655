"""Character Cards (V1/V2/V3) in and out: JSON, PNG (``chara``/``ccv3`` text chunks) and CharX.

A leaf: bytes in, a :class:`Card` out (or a :class:`CardError` naming the field), and back.
Nothing here touches the database or blob storage.
"""

from pipeline.cards.errors import CardError
from pipeline.cards.model import Card, LoreEntry
from pipeline.cards.read import CardFile, read_card
from pipeline.cards.write import card_png, card_v2, card_v3, placeholder_png

__all__ = [
    "Card",
    "CardError",
    "CardFile",
    "LoreEntry",
    "card_png",
    "card_v2",
    "card_v3",
    "placeholder_png",
    "read_card",
]
