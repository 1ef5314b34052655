"""The language model interface: a stream of text fragments for a list of chat messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str


class LLMProvider(Protocol):
    name: str

    def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        """Yield text fragments as the model produces them; cancellation stops generation."""
        ...
