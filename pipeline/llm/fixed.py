"""A "model" that streams a text given in advance: the companion's greeting goes through the
same reply pipeline as any reply (deltas, speech, visemes, emotions, barge-in) without asking a
language model to repeat it (which a small one would not do faithfully)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from pipeline.llm.base import ChatMessage

_WORDS = re.compile(r"\S+\s*|\s+")


class FixedText:
    name = "greeting"  # what ReplyStarted.model says

    def __init__(self, text: str, word_delay_s: float = 0.0) -> None:
        self.text = text
        self.word_delay_s = word_delay_s

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        """Word by word, whatever ``messages`` say; a cancellation lands between words."""
        for word in _WORDS.findall(self.text):
            await asyncio.sleep(self.word_delay_s)
            yield word
