"""Token estimates and the person's preferences as prompt lines, for pipeline/context.py
(which builds a turn's messages) and memory recall.

Tokens are estimated, not counted (a model's tokenizer is not always at hand): about four
characters per token for English, plus a few tokens of per-message overhead, rounded up. On this
project's prompts it ran 5-6% under SmolLM2's own tokenizer (emotion tags' brackets split
finely), so budgets keep 10% spare (services/turn_context.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from pipeline.llm.base import ChatMessage

MESSAGE_OVERHEAD_TOKENS = 4
_MAX_PREF_CHARS = 200
_REPLY_LENGTHS = {
    "short": "Keep replies short: one to three sentences.",
    "medium": "Keep replies to a short paragraph.",
    "long": "You may give longer, detailed replies when useful.",
}


def estimate_tokens(text: str) -> int:
    """Four ASCII characters a token, and one a token for any other (kana, hanzi, emoji...:
    a BPE vocabulary trained on English splits those finest, so non-English text errs high)."""
    ascii_chars = len(text.encode("ascii", "ignore"))
    return math.ceil(ascii_chars / 4) + len(text) - ascii_chars


def message_tokens(message: ChatMessage) -> int:
    return estimate_tokens(message.content) + MESSAGE_OVERHEAD_TOKENS


def _clean(value: object) -> str:
    """Preferences are user input: one line each, bounded, so they cannot reshape the prompt."""
    return " ".join(str(value).split())[:_MAX_PREF_CHARS]


def preference_lines(preferences: Mapping[str, object]) -> list[str]:
    lines: list[str] = []
    name = preferences.get("preferred_name")
    if name:
        lines.append(f"The user likes to be called {_clean(name)}.")
    length = preferences.get("reply_length")
    if isinstance(length, str) and length in _REPLY_LENGTHS:
        lines.append(_REPLY_LENGTHS[length])
    for keys, intro in (
        (("topics_to_avoid", "avoid_topics"), "Never bring up these topics"),
        (("interests", "topics"), "The user enjoys talking about"),
    ):
        value = next((preferences[k] for k in keys if k in preferences), None)
        if isinstance(value, str) and value.strip():
            lines.append(f"{intro}: {_clean(value)}.")
        elif isinstance(value, Sequence) and not isinstance(value, str) and value:
            lines.append(f"{intro}: {', '.join(_clean(v) for v in value)}.")
    return lines
