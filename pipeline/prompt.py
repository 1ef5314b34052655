"""Chat messages for one reply: persona and preferences as the system prompt, then history.

Tokens are estimated, not counted (no tokenizer ships offline): about four characters per token
for English, plus a few tokens of per-message overhead, rounded up. The estimate errs high for
short words, which is the safe side for a context budget.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.emotions import TAG_INSTRUCTION
from pipeline.llm.base import ChatMessage, Role

MESSAGE_OVERHEAD_TOKENS = 4
_MAX_PREF_CHARS = 200
_REPLY_LENGTHS = {
    "short": "Keep replies short: one to three sentences.",
    "medium": "Keep replies to a short paragraph.",
    "long": "You may give longer, detailed replies when useful.",
}


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    persona: str
    traits: tuple[str, ...] = ()
    language: str = "en"
    greeting: str = ""


def estimate_tokens(text: str) -> int:
    """Four ASCII characters a token, and one a token for any other (kana, hanzi, emoji...:
    a BPE vocabulary trained on English splits those finest), so it errs high."""
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


def build_system_prompt(persona: Persona, preferences: Mapping[str, object]) -> str:
    parts = [f"You are {persona.name}, an AI companion shown as a hologram.", persona.persona]
    if persona.traits:
        parts.append("Your traits: " + ", ".join(persona.traits) + ".")
    if persona.greeting:
        parts.append(f'Your usual greeting: "{persona.greeting}"')
    parts.append(f"Reply in the language with code '{persona.language}'.")
    parts.append("Your replies are spoken aloud: no markdown, lists, emoji or URLs.")
    parts.extend(preference_lines(preferences))
    parts.append(TAG_INSTRUCTION)
    return "\n".join(p.strip() for p in parts if p.strip())


def build_messages(
    persona: Persona,
    preferences: Mapping[str, object],
    history: Sequence[tuple[Role, str]],
    *,
    max_tokens: int = 3000,
) -> list[ChatMessage]:
    """System prompt, then as much recent history as fits ``max_tokens``, oldest first.

    ``history`` ends with the user's latest message. The system prompt is always kept; the newest
    history is kept first, and the latest message is kept (cut from the front) even if it alone
    overflows, because replying without it makes no sense.
    """
    system = ChatMessage("system", build_system_prompt(persona, preferences))
    budget = max_tokens - message_tokens(system)
    kept: list[ChatMessage] = []
    for index, (role, text) in enumerate(reversed(history)):
        message = ChatMessage(role, text)
        cost = message_tokens(message)
        if cost > budget:
            if index == 0:
                keep_chars = max(0, (budget - MESSAGE_OVERHEAD_TOKENS) * 4)
                kept.append(ChatMessage(role, text[len(text) - keep_chars :] if keep_chars else ""))
            break
        kept.append(message)
        budget -= cost
    return [system, *reversed(kept)]
