"""The language model interface: a stream of text fragments for a list of chat messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

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


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Which model answers a reply; ``fallback`` when the configured one could not run."""

    model: str
    fallback: bool = False


@runtime_checkable
class ChoosesPerReply(Protocol):
    """A provider that decides per reply who answers (a local model that may have stopped)."""

    def answering(self) -> tuple[LLMProvider, ModelInfo]: ...


def answering(llm: LLMProvider) -> tuple[LLMProvider, ModelInfo]:
    """The provider that streams this reply and its model's name, chosen once at its start so
    ``ReplyStarted`` names the model that really answers."""
    if isinstance(llm, ChoosesPerReply):
        return llm.answering()
    model = getattr(llm, "model", None)
    return llm, ModelInfo(model if isinstance(model, str) and model else llm.name)
