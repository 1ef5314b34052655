"""The embedded default's language model: SmolLM2 in a llama-server child, or the persona
responder when it cannot run.

Each reply asks ``answering()`` once: the model while its server is up, else the persona
responder marked as a fallback (``ReplyStarted.fallback``). A server that dies mid-reply breaks
that reply's HTTP stream, which fails retryably (``ProviderUnavailable``); the next reply falls
back at once, and the server is started again in the background (at most ``max_restarts``
times), so a crash costs one reply, never a hang.

Prompt budgets: ``context_tokens`` is the model's context size (``--ctx-size``) for whoever
sizes prompts; ``count_tokens`` asks the model's own tokenizer (``/tokenize``) when exact counts
are worth a round trip, else ``pipeline.prompt.estimate_tokens`` errs on the safe side.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from pipeline.context import names_in
from pipeline.errors import ProviderUnavailable
from pipeline.llm.base import ChatMessage, LLMProvider, ModelInfo
from pipeline.llm.leaks import without_leaks
from pipeline.llm.llama_server import (
    EngineError,
    LlamaServer,
    ServerOptions,
    find_engine,
    runnable_model,
)
from pipeline.llm.local import PersonaResponder
from pipeline.llm.openai_llm import OpenAICompatibleLLM

log = logging.getLogger("holomate.llm")  # reaches the server's output (api/logs.py)

# SmolLM2's card suggests a low temperature; above ~0.7 the 135M model drifts off topic.
TEMPERATURE = 0.5
STREAM_TIMEOUT_S = 30.0  # between bytes of a reply: a frozen server fails the reply, not hangs


_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*(?=\s)|\n")
SOFT_SHARE = 0.75  # of the reply's token cap: from there, the next sentence end ends the reply


async def whole_sentences(fragments: AsyncIterator[str], max_tokens: int) -> AsyncIterator[str]:
    """End a long reply on a sentence, not where the server's token cap cuts it mid-word.

    llama-server streams about one token per fragment. Past ``SOFT_SHARE`` of ``max_tokens``,
    text after the last sentence end is held back: the next sentence end ends the reply there;
    if the cap comes first, the held fragment is dropped (a natural end before the cap keeps
    it). Only the tail of a long reply is delayed."""
    soft, count, held = int(max_tokens * SOFT_SHARE), 0, ""
    try:
        async for fragment in fragments:
            count += 1
            if count <= soft:
                yield fragment
                continue
            held += fragment
            if (end := _last_end(held)) is not None:
                yield held[:end]
                return
        if held and count < max_tokens - 1:
            yield held
    finally:
        aclose = getattr(fragments, "aclose", None)
        if aclose is not None:
            await aclose()


def _last_end(text: str) -> int | None:
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return ends[-1] if ends else None


class LocalModelLLM:
    name = "local-model"

    def __init__(
        self,
        fallback: PersonaResponder,
        options: ServerOptions,
        model_dir: Path,
        *,
        binary: Path | None = None,
        model_file: Path | None = None,
        max_restarts: int = 3,
    ) -> None:
        self.fallback = fallback
        self.binary, self.model_file = binary, model_file  # the operator's own, if given
        self.options = options
        self.model_dir = model_dir
        self.max_restarts = max_restarts
        self.server: LlamaServer | None = None
        self.problem = ""  # why the model is not answering, for logs and the demo
        self._client: OpenAICompatibleLLM | None = None
        self._restarts = 0
        self._restarting: asyncio.Task[None] | None = None

    @property
    def model(self) -> str:
        return self.options.alias

    @property
    def context_tokens(self) -> int:
        """The model's context (prompt + reply), for prompt budgets."""
        return self.options.ctx_size

    @property
    def ready(self) -> bool:
        return self.server is not None and self.server.alive and self._client is not None

    async def start(self) -> bool:
        """Start the model's server; on failure log why and leave the responder answering."""
        try:
            engine = await asyncio.to_thread(find_engine, self.binary, self.model_file)
            model = engine.model
            if self.binary is None:  # the packaged engine's kernels need AVX-VNNI for Q4_1
                model = await asyncio.to_thread(runnable_model, engine.model, self.model_dir)
            server = LlamaServer(
                engine.binary, model, self.options, self.model_dir / "llama-server.log"
            )
            await server.start()
        except (EngineError, OSError) as e:
            self.problem = str(e)
            log.warning("local model unavailable, the persona responder answers: %s", e)
            return False
        self.server, self.problem = server, ""
        self._client = OpenAICompatibleLLM(
            f"{server.base_url}/v1",
            "",
            self.options.alias,
            timeout=STREAM_TIMEOUT_S,
            max_retries=0,
            temperature=TEMPERATURE,
        )
        return True

    def answering(self) -> tuple[LLMProvider, ModelInfo]:
        if self.ready:
            return self, ModelInfo(self.model)
        if self.server is not None:  # it was up: it died
            self._restart_later()
        return self.fallback, ModelInfo(self.fallback.model, fallback=True)

    async def stream(self, messages: list[ChatMessage]) -> AsyncIterator[str]:
        client = self._client
        if client is None or not self.ready:
            raise ProviderUnavailable(self.name, "the local model is not running")
        system = next((m.content for m in messages if m.role == "system"), "")
        companion, person = names_in(system)
        names, users = [companion] if companion else [], [person] if person else []
        raw = whole_sentences(client.stream(messages), self.options.max_reply_tokens)
        try:
            async for text in without_leaks(raw, names, users):
                yield text
        except ProviderUnavailable:
            server = self.server
            if server is not None and await server.exited(within_s=1.0):
                log.warning("the local model's server died during a reply")
            raise  # this reply fails retryably; the next one falls back (``answering``)

    async def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the model's own tokenizer (llama-server's ``/tokenize``)."""
        if self.server is None or not self.ready:
            raise ProviderUnavailable(self.name, "the local model is not running")
        async with httpx.AsyncClient(timeout=5.0) as http:
            response = await http.post(f"{self.server.base_url}/tokenize", json={"content": text})
        response.raise_for_status()
        return len(response.json()["tokens"])

    def _restart_later(self) -> None:
        if self._restarting is not None and not self._restarting.done():
            return
        if self._restarts >= self.max_restarts:
            return
        self._restarts += 1
        log.warning("the local model's server stopped; starting it again (%d)", self._restarts)
        self._restarting = asyncio.create_task(self._restart(), name="llama-server restart")

    async def _restart(self) -> None:
        await self._stop_server()
        await asyncio.sleep(1.0 * self._restarts)
        await self.start()

    async def _stop_server(self) -> None:
        client, self._client = self._client, None
        server, self.server = self.server, None
        if client is not None:
            await client.aclose()
        if server is not None:
            await server.stop()

    async def aclose(self) -> None:
        """Stop the child with the app (terminate, then kill)."""
        if self._restarting is not None:
            self._restarting.cancel()
            await asyncio.gather(self._restarting, return_exceptions=True)
        await self._stop_server()
