"""The reply the benchmarks' fake LLMs stream: scripted sentences as OpenAI chat-completion SSE.

bench/fanout.py and bench/load_providers.py serve the same words the same way, so their figures
measure the same reply (emotion tags, sentence ends and the framing events included).
"""

from __future__ import annotations

import json

WORDS = (
    "the stars tonight are bright and the sky is clear",
    "we could walk to the hill and count them slowly",
    "light from some of them left long before we were born",
    "that thought makes me feel small in a good way",
)
EMOTIONS = ("joy", "thinking", "affection")


def reply_tokens(sentences: int) -> list[str]:
    """``sentences`` sentences of 10 words, each led by an emotion tag (one delta per word)."""
    tokens: list[str] = []
    for i in range(sentences):
        tokens.append(f"[{EMOTIONS[i % len(EMOTIONS)]}]")
        words = WORDS[i % len(WORDS)].split()
        words[0] = words[0].capitalize()
        for j, word in enumerate(words):
            tokens.append((" " if i or j else "") + word + ("." if j == len(words) - 1 else ""))
    return tokens


def sse(content: str | None, finish: str | None = None) -> str:
    """One chat-completion chunk as a server-sent event."""
    delta = {"content": content} if content is not None else {}
    body = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "bench",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"
