"""Facts from a message by a language model, as structured output (``json_schema``).

For an OpenAI-compatible endpoint that honours ``response_format: json_schema`` (OpenAI,
vLLM, llama.cpp server with grammars, Ollama); set ``HOLOMATE_MEMORY_LLM`` to such a model. The
answer is validated here: a malformed one raises, and the caller falls back to the offline
extractor (pipeline/memory_extractor.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

import openai

from pipeline.memory_extractor import MAX_TEXT, ExtractedFact

KINDS = (
    "name", "like", "dislike", "allergy", "family", "pet", "work", "place", "date", "age",
    "plan", "diet", "fact",
)  # fmt: skip

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["facts"],
    "properties": {
        "facts": {
            "type": "array",
            "maxItems": 8,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["kind", "topic", "text", "importance"],
                "properties": {
                    "kind": {"type": "string", "enum": list(KINDS)},
                    "topic": {"type": "string"},
                    "text": {"type": "string"},
                    "importance": {"type": "number"},
                },
            },
        }
    },
}

INSTRUCTIONS = """You keep a companion's long-term memory of one person, {speaker}.
From the message {speaker} just wrote, list the lasting facts {speaker} states about themselves:
name, likes and dislikes, allergies, family and pets, work and studies, places, dates, age, plans.
Skip feelings of the moment, questions, requests, and anything about other people alone.
Each fact: kind (one of {kinds}); topic, a short lowercase key that stays the same when the fact
changes ("name", "likes:tea" for liking or disliking tea, "allergy:peanuts", "family:sister:ana",
"work:as", "place:home", "date:birthday", "plan:paris trip"); text, one short third-person
sentence naming {speaker} ("{speaker} is allergic to peanuts"); importance from 0 to 1 (allergies
and names 0.9, family and work 0.7, tastes 0.5). No facts: an empty list."""


class MemoryFactModel:
    """Calls the model; ``__call__(message, speaker)`` matches services' ``FactModel``."""

    def __init__(
        self, base_url: str | None, api_key: str, model: str, *, timeout: float = 20.0
    ) -> None:
        self.model = model
        self._client = openai.AsyncOpenAI(
            base_url=base_url or None, api_key=api_key or "unused", timeout=timeout, max_retries=1
        )

    async def __call__(self, message: str, speaker: str) -> list[ExtractedFact]:
        response = await self._client.chat.completions.create(
            model=self.model,
            temperature=0,
            messages=[
                {
                    "role": "system",
                    "content": INSTRUCTIONS.format(speaker=speaker, kinds=", ".join(KINDS)),
                },
                {"role": "user", "content": message},
            ],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "memory_facts", "strict": True, "schema": SCHEMA},
            },
        )
        content = response.choices[0].message.content if response.choices else None
        if not content:
            raise ValueError("the model gave no content")
        return parse_facts(content)

    async def aclose(self) -> None:
        await self._client.close()


def parse_facts(content: str) -> list[ExtractedFact]:
    """The model's JSON as facts; raises ValueError on anything outside the schema."""
    data = json.loads(content)
    if not isinstance(data, dict) or not isinstance(data.get("facts"), list):
        raise ValueError("expected an object with a facts list")
    facts: list[ExtractedFact] = []
    for item in data["facts"][:8]:
        if not isinstance(item, dict):
            raise ValueError("a fact is not an object")
        kind, topic, text = item.get("kind"), item.get("topic"), item.get("text")
        importance = item.get("importance")
        if kind not in KINDS or not isinstance(topic, str) or not isinstance(text, str):
            raise ValueError(f"bad fact {item!r}")
        if not isinstance(importance, int | float) or isinstance(importance, bool):
            raise ValueError(f"bad importance {importance!r}")
        clean_text = " ".join(text.split())[:MAX_TEXT]
        clean_topic = re.sub(r"\s+", " ", topic.strip().lower())[:160]
        if clean_text and clean_topic:
            facts.append(
                ExtractedFact(kind, clean_topic, clean_text, min(max(float(importance), 0.0), 1.0))
            )
    return facts
