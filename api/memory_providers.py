"""The optional providers of long-term memory: a fact-extracting model and an embedder."""

from __future__ import annotations

from api.providers import llm_endpoint
from api.settings import Settings
from pipeline.embeddings.base import Embedder
from pipeline.embeddings.openai_embeddings import OpenAIEmbeddings
from pipeline.llm.memory_facts import MemoryFactModel


def build_memory_model(settings: Settings) -> MemoryFactModel | None:
    """HOLOMATE_MEMORY_LLM names a structured-output model on the configured LLM endpoint."""
    if not settings.memory_llm:
        return None
    return MemoryFactModel(*llm_endpoint(settings), settings.memory_llm)


def build_embedder(settings: Settings) -> Embedder | None:
    if not settings.embeddings_model:
        return None
    key = settings.embeddings_api_key.get_secret_value()
    return OpenAIEmbeddings(
        settings.embeddings_base_url or settings.openai_base_url or None,
        key or settings.openai_api_key.get_secret_value(),
        settings.embeddings_model,
    )
