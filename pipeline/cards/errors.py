"""The one error a card can raise: what is wrong, and where (a path into the card's JSON such as
``data.character_book.entries[3].keys``, or ``file`` for the container itself)."""

from __future__ import annotations


class CardError(ValueError):
    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__(f"{field}: {message}")
        self.message = message
        self.field = field
