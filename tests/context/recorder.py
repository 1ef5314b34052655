"""An OpenAI-compatible chat server that records every prompt it is sent and streams a fixed
answer, in the real wire format (the official SDK talks to it)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class Recorder:
    answer: str = "[joy] That is lovely to hear. Tell me more!"
    summary_answer: str = "Ada adopted a cat named Pixel and works as a nurse."
    fail_summaries: bool = False
    prompts: list[list[dict[str, str]]] = field(default_factory=list)
    summary_prompts: list[list[dict[str, str]]] = field(default_factory=list)

    def last_system(self) -> str:
        return "\n".join(m["content"] for m in self.prompts[-1] if m["role"] == "system")


def _chunk(content: str | None, finish: str | None = None) -> str:
    delta = {"content": content} if content is not None else {}
    body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0,
            "model": "recorder", "choices": [{"index": 0, "delta": delta,
                                              "finish_reason": finish}]}  # fmt: skip
    return f"data: {json.dumps(body)}\n\n"


def recorder_app(recorder: Recorder) -> Starlette:
    async def completions(request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        messages = [{"role": m["role"], "content": m["content"]} for m in body["messages"]]
        summarising = "running summary" in messages[0]["content"]
        (recorder.summary_prompts if summarising else recorder.prompts).append(messages)
        if summarising and recorder.fail_summaries:
            error = {"message": "boom", "type": "server_error", "param": None, "code": None}
            return JSONResponse({"error": error}, status_code=500)
        text = recorder.summary_answer if summarising else recorder.answer

        async def stream() -> AsyncIterator[str]:
            for word in text.split(" "):
                yield _chunk(word + " ")
            yield _chunk(None, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
