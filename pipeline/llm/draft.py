"""A reply's text begun before its turn is certain (what voice agents call preemptive
generation).

In a hands-free conversation the person's words are transcribed while they pause; the turn only
ends once the pause has lasted the configured silence (~500 ms). A draft asks the model for the
reply to those words at once and keeps what it streams. If the turn then ends on the same words
and the reply's prompt is exactly the draft's, the reply reads the draft (what came so far at
once, then the rest as it comes) instead of asking the model again, so its first sentence is
already written when the turn ends. If the person goes on speaking, or anything else changed the
prompt, the draft is cancelled, which stops the model's generation.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from pipeline.llm.base import ChatMessage, LLMProvider, ModelInfo, answering


class Draft:
    """Starts streaming at once; needs a running event loop."""

    def __init__(self, llm: LLMProvider, messages: list[ChatMessage]) -> None:
        # Chosen now: a reply that takes the draft names the model that wrote it.
        self._llm, self._model = answering(llm)
        self.name = self._llm.name
        self.messages = list(messages)
        self._fragments: list[str] = []
        self._ended = False
        self._error: Exception | None = None
        self._more = asyncio.Event()
        self._taken = False
        self._task = asyncio.create_task(self._pull(), name="reply draft")

    def fits(self, messages: list[ChatMessage]) -> bool:
        """Whether a reply to ``messages`` may read this draft."""
        return not self._taken and not self._task.cancelled() and messages == self.messages

    def take(self) -> LLMProvider:
        """This draft as the reply's model (once); stopping that reply stops the draft."""
        self._taken = True
        return _Drafted(self, self._model)

    def cancel(self) -> None:
        """Not needed after all: stop the model (a taken draft is its reply's to stop)."""
        if not self._taken:
            self._task.cancel()

    async def _pull(self) -> None:
        stream = self._llm.stream(self.messages)
        try:
            async for fragment in stream:
                self._fragments.append(fragment)
                self._more.set()
        except Exception as e:  # the reply that takes the draft fails with it, as it would have
            self._error = e
        finally:
            self._ended = True
            self._more.set()
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    async def read(self) -> AsyncIterator[str]:
        sent = 0
        try:
            while True:
                while sent < len(self._fragments):
                    yield self._fragments[sent]
                    sent += 1
                if self._ended:
                    if self._error is not None:
                        raise self._error
                    return
                self._more.clear()
                await self._more.wait()
        finally:
            self._task.cancel()  # the reply stopped reading (interrupted, failed): so does it


class _Drafted:
    """The reply's model: the draft, read from its start."""

    def __init__(self, draft: Draft, model: ModelInfo) -> None:
        self._draft, self._model = draft, model
        self.name = draft.name

    def answering(self) -> tuple[LLMProvider, ModelInfo]:
        return self, self._model

    def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        if messages != self._draft.messages:
            raise ValueError("a draft answers only the messages it was written for")
        return self._draft.read()
