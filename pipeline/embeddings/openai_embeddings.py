"""Embeddings from any OpenAI-compatible ``/v1/embeddings`` endpoint, through the official SDK.

OpenAI's ``text-embedding-3-small``, or a local server speaking the same API (Ollama, llama.cpp
``--embeddings``, vLLM, text-embeddings-inference). SDK errors become ``EmbeddingError``.
"""

from __future__ import annotations

from collections.abc import Sequence

import openai

from pipeline.embeddings.base import EmbeddingError


class OpenAIEmbeddings:
    def __init__(
        self,
        base_url: str | None,
        api_key: str,
        model: str,
        *,
        timeout: float = 10.0,
        max_retries: int = 1,
    ) -> None:
        self._model = model
        # Local servers need no key, but the SDK refuses an empty one.
        self._client = openai.AsyncOpenAI(
            base_url=base_url or None,
            api_key=api_key or "unused",
            timeout=timeout,
            max_retries=max_retries,
        )

    @property
    def model(self) -> str:
        return self._model

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        try:
            response = await self._client.embeddings.create(
                model=self._model, input=list(texts), encoding_format="float"
            )
        except openai.OpenAIError as e:
            raise EmbeddingError(f"{type(e).__name__}: {e}") from e
        ordered = sorted(response.data, key=lambda d: d.index)
        if len(ordered) != len(texts):
            raise EmbeddingError(f"asked for {len(texts)} vectors, got {len(ordered)}")
        return [list(d.embedding) for d in ordered]

    async def aclose(self) -> None:
        await self._client.close()
