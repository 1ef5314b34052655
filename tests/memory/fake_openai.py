"""An OpenAI-compatible server for memory, in the real wire format the official SDK reads:
``/v1/chat/completions`` answering structured-output requests with facts, and
``/v1/embeddings`` with vectors over a few concepts (words of one concept point the same way,
as a real embedding model places "peanuts" near "eating"). Failure knobs: ``fail_chat``,
``malformed``, ``fail_embeddings``."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

CONCEPTS: dict[str, tuple[str, ...]] = {
    "food": ("peanut", "peanuts", "allergic", "eat", "eating", "food", "snack", "cookies", "nuts"),
    "music": ("cello", "music", "play", "plays", "song", "concert", "instrument"),
    "family": ("sister", "brother", "mother", "family", "ana"),
    "travel": ("paris", "trip", "flight", "travel", "holiday", "lisbon"),
}


def vector(text: str) -> list[float]:
    words = re.findall(r"[a-z]+", text.lower())
    vec = [sum(w in names for w in words) + 0.0 for names in CONCEPTS.values()]
    vec.append(0.1)  # never the zero vector
    return vec


async def _reply_chunks(model: str) -> AsyncIterator[str]:
    for piece in ("That ", "is ", "good ", "to ", "know."):
        chunk = {"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 0,
                 "model": model, "choices": [{"index": 0, "delta": {"content": piece},
                                              "finish_reason": None}]}  # fmt: skip
        yield f"data: {json.dumps(chunk)}\n\n"
    yield "data: [DONE]\n\n"


@dataclass
class FakeOpenAI:
    facts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # message -> facts
    fail_chat: bool = False
    malformed: bool = False
    fail_embeddings: bool = False
    chat_requests: list[dict[str, Any]] = field(default_factory=list)
    embedding_requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self.chat, methods=["POST"]),
                Route("/v1/embeddings", self.embeddings, methods=["POST"]),
            ]
        )

    async def chat(self, request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        self.chat_requests.append(body)
        if self.fail_chat:
            error = {"message": "overloaded", "type": "server_error", "param": None, "code": None}
            return JSONResponse({"error": error}, status_code=503)
        if body.get("stream"):  # the companion's reply itself
            return StreamingResponse(_reply_chunks(body["model"]), media_type="text/event-stream")
        said = body["messages"][-1]["content"]
        content = "not json" if self.malformed else json.dumps({"facts": self.facts.get(said, [])})
        return JSONResponse(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )

    async def embeddings(self, request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        self.embedding_requests.append(body)
        if self.fail_embeddings:
            error = {"message": "no", "type": "server_error", "param": None, "code": None}
            return JSONResponse({"error": error}, status_code=500)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": vector(text)}
            for i, text in enumerate(inputs)
        ]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        )
