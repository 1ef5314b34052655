"""A turn's context: what the model reads before it answers, fitted to its context window.

Pure and leaf: plain values in (card fields, preferences, lorebook entries, memory texts, the
conversation's summary, its history), chat messages out. Nothing here touches the database.

When the budget is short, parts are kept in this order (each may use only what the ones before
left): the main prompt and the character (always; a long card field is clipped to its share),
``post_history_instructions`` (always), the latest message (cut from the front if it alone
overflows), memories and lorebook entries (each within a share of their own), the summary of
older turns, as much recent history as fits, newest first, and last the example dialogue, whole
``<START>`` blocks while they fit. The layout the model reads is different: one system message
(main prompt, lorebook, character, preferences, memories, summary, examples), the history oldest
first, then ``post_history_instructions`` as a system message (Character Card V2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.cards.model import LoreEntry
from pipeline.emotions import TAG_INSTRUCTION
from pipeline.llm.base import ChatMessage, Role
from pipeline.prompt import MESSAGE_OVERHEAD_TOKENS, estimate_tokens, preference_lines

_MACROS = re.compile(r"\{\{(char|user)\}\}|<(BOT|USER)>", re.IGNORECASE)
_ORIGINAL = re.compile(r"\{\{original\}\}", re.IGNORECASE)
_START = re.compile(r"^\s*<START>\s*$", re.IGNORECASE | re.MULTILINE)
# main_prompt's first line, read back by the local models (names_in).
_SPEAKER = re.compile(r"You are ([^,.\n]{1,60})[,.]")
_LISTENER = re.compile(r"talking with ([^,.\n]{1,60})[,.]")
_LANGUAGES = {"de": "German", "es": "Spanish", "fr": "French", "it": "Italian", "ja": "Japanese",
              "ko": "Korean", "nl": "Dutch", "pt": "Portuguese", "zh": "Chinese"}  # fmt: skip
LORE_SCAN_DEPTH = 4  # the latest message and the three before it


@dataclass(frozen=True, slots=True)
class Character:
    """The companion as the model should play it (Character Card V2 field names in comments)."""

    name: str
    description: str = ""  # description: persona and backstory
    personality: str = ""
    scenario: str = ""
    traits: tuple[str, ...] = ()
    language: str = "en"
    system_prompt: str = ""  # replaces the main prompt; {{original}} brings it back
    post_history_instructions: str = ""
    example_dialogue: str = ""  # mes_example


@dataclass(frozen=True, slots=True)
class Recollection:
    """A memory as recalled, best first; ``person`` names whose it is (shown when shared)."""

    text: str
    person: str = ""


@dataclass(frozen=True, slots=True)
class Turn:
    role: Role
    text: str
    speaker: str = ""  # who said it: named in the prompt when several people take part


@dataclass(frozen=True, slots=True)
class Budget:
    """Prompt tokens (the model's context minus the reply's), and the shares of some parts."""

    tokens: int
    card_share: float = 0.35  # each long card field is clipped to this share
    memory_share: float = 0.15
    lore_share: float = 0.15
    summary_share: float = 0.15


@dataclass(frozen=True, slots=True)
class TurnInput:
    card: Character
    user_name: str  # replaces {{user}}
    history: Sequence[Turn]  # oldest first, ending with the latest message
    preferences: Mapping[str, object] = field(default_factory=dict)
    memories: Sequence[Recollection] = ()
    lorebook: Sequence[LoreEntry] = ()
    summary: str = ""
    shared: bool = False  # several people take part: their lines and memories say whose


@dataclass(frozen=True, slots=True)
class BuiltContext:
    messages: list[ChatMessage]
    tokens: int  # estimated, overheads included
    history_kept: int  # turns of ``history`` in the prompt (the latest included)
    memories_kept: int
    lore_kept: int
    examples_kept: int


def substitute(text: str, char: str, user: str) -> str:
    """``{{char}}``/``{{user}}`` (and the older ``<BOT>``/``<USER>``) become the names."""

    def name(match: re.Match[str]) -> str:
        which = (match.group(1) or match.group(2)).lower()
        return char if which in ("char", "bot") else user

    return _MACROS.sub(name, text)


def names_in(system_prompt: str) -> tuple[str, str]:
    """(companion, person) as ``main_prompt`` names them; "" for a name it does not find (a
    card's own system prompt may not say "You are ...")."""
    speaker, listener = _SPEAKER.search(system_prompt), _LISTENER.search(system_prompt)
    return (
        speaker.group(1).strip() if speaker else "",
        listener.group(1).strip() if listener else "",
    )


def main_prompt(card: Character, preferences: Mapping[str, object]) -> str:
    """The default system prompt, short enough for a 135M model to follow.

    Its first line names the companion and the person (``names_in`` reads them back for the
    local models); ``The user likes to be called <name>.`` is read back by the offline persona
    responder (pipeline/llm/local.py).
    """
    parts = [
        f"You are {card.name}, a companion shown as a hologram, talking with {{{{user}}}}.",
        f"Stay in character as {card.name}. Only write {card.name}'s reply, never {{{{user}}}}'s.",
        "Your replies are spoken aloud: no markdown, lists, emoji or URLs.",
    ]
    if card.language and card.language != "en":
        language = _LANGUAGES.get(card.language.split("-")[0], f"the language '{card.language}'")
        parts.append(f"Always reply in {language}.")
    parts.extend(preference_lines(preferences))
    parts.append(TAG_INSTRUCTION)
    return "\n".join(parts)


def example_blocks(example_dialogue: str) -> list[str]:
    """``mes_example`` split on its ``<START>`` lines into dialogues, empty ones dropped."""
    return [b.strip() for b in _START.split(example_dialogue) if b.strip()]


def lore_matches(entry: LoreEntry, text: str) -> bool:
    if not entry.enabled:
        return False
    if entry.constant:
        return True
    if not entry.content.strip() or not _any_key(entry.keys, text, entry.case_sensitive):
        return False
    return (
        not entry.selective
        or not entry.secondary_keys
        or _any_key(entry.secondary_keys, text, entry.case_sensitive)
    )


def _any_key(keys: Sequence[str], text: str, case_sensitive: bool) -> bool:
    flags = 0 if case_sensitive else re.IGNORECASE
    for key in keys:
        key = key.strip()
        if not key:
            continue
        # A key that starts or ends with a letter matches whole words: "cat" is not in "scatter".
        pattern = (r"\b" if key[0].isalnum() else "") + re.escape(key)
        pattern += r"\b" if key[-1].isalnum() else ""
        if re.search(pattern, text, flags):
            return True
    return False


def clip(text: str, tokens: int) -> str:
    """``text`` cut to at most ``tokens`` at a word boundary, with an ellipsis when cut."""
    if estimate_tokens(text) <= tokens:
        return text
    if tokens <= 1:
        return ""
    cut = text[: (tokens - 1) * 4]
    while (excess := estimate_tokens(cut) - (tokens - 1)) > 0:  # non-ASCII: a token a char
        cut = cut[:-excess]
    space = cut.rfind(" ")
    return (cut[:space] if space > len(cut) // 2 else cut).rstrip() + "…"


def tail(text: str, tokens: int) -> str:
    """The end of ``text`` worth at most ``tokens`` (a message too long for the prompt keeps
    its end, where its question usually is)."""
    cut = text[-tokens * 4 :] if tokens > 0 else ""
    while (excess := estimate_tokens(cut) - tokens) > 0:
        cut = cut[excess:]
    return cut


def _cost(text: str) -> int:
    return estimate_tokens(text) + 1  # the newline that joins it to the system message


def _take_lines(lines: Sequence[str], budget: int) -> list[str]:
    """The leading lines that fit ``budget`` together (one that does not fit is skipped)."""
    kept: list[str] = []
    for line in lines:
        if _cost(line) <= budget:
            kept.append(line)
            budget -= _cost(line)
    return kept


def build_context(turn: TurnInput, budget: Budget) -> BuiltContext:
    """The chat messages for one reply within ``budget.tokens`` (see the module's docstring)."""
    card, user = turn.card, turn.user_name

    def sub(text: str) -> str:
        return substitute(text, card.name, user).strip()

    total = budget.tokens
    default = main_prompt(card, turn.preferences)
    main = sub(_ORIGINAL.sub(default, card.system_prompt) if card.system_prompt else default)
    field_cap = max(1, int(total * budget.card_share))
    character = [
        clip(sub(text), field_cap) if label is None else f"{label}: {clip(sub(text), field_cap)}"
        for label, text in (
            (None, card.description),
            (f"{card.name}'s personality", card.personality),
            ("Scenario", card.scenario),
        )
        if text.strip()
    ]
    if card.traits:
        character.append("Your traits: " + ", ".join(card.traits) + ".")
    post = sub(_ORIGINAL.sub("", card.post_history_instructions))
    left = total - MESSAGE_OVERHEAD_TOKENS - _cost(main) - sum(_cost(c) for c in character)
    if post:
        left -= estimate_tokens(post) + MESSAGE_OVERHEAD_TOKENS

    history = [
        Turn(t.role, f"{t.speaker}: {t.text}")
        if turn.shared and t.speaker and t.role == "user"
        else t
        for t in turn.history
        if t.text.strip()
    ]
    latest: list[ChatMessage] = []
    if history:
        last = history[-1]
        text = tail(last.text, max(0, left - MESSAGE_OVERHEAD_TOKENS))
        latest.append(ChatMessage(last.role, text))
        left -= estimate_tokens(text) + MESSAGE_OVERHEAD_TOKENS

    memory_lines = [
        f"- {m.person}: {sub(m.text)}" if turn.shared and m.person else f"- {sub(m.text)}"
        for m in turn.memories
        if m.text.strip()
    ]
    memory_head = "What you remember:"
    memories = _take_lines(
        memory_lines,
        min(left, int(total * budget.memory_share)) - _cost(memory_head),
    )
    if memories:
        left -= _cost(memory_head) + sum(_cost(m) for m in memories)

    scanned = "\n".join(t.text for t in history[-LORE_SCAN_DEPTH:])
    active = [e for e in turn.lorebook if lore_matches(e, scanned)]
    by_priority = sorted(active, key=lambda e: (-e.priority, e.insertion_order))
    lore_room = min(left, int(total * budget.lore_share))
    chosen: list[LoreEntry] = []
    for entry in by_priority:
        cost = _cost(sub(entry.content))
        if cost <= lore_room:
            chosen.append(entry)
            lore_room -= cost
            left -= cost
    chosen.sort(key=lambda e: e.insertion_order)

    summary_head = "Earlier in this conversation:"
    summary = ""
    if turn.summary.strip():
        room = min(left, int(total * budget.summary_share)) - _cost(summary_head)
        summary = clip(sub(turn.summary), room) if room > 1 else ""
        if summary:
            left -= _cost(summary_head) + _cost(summary)

    earlier: list[ChatMessage] = []
    for past in reversed(history[:-1]):
        cost = estimate_tokens(past.text) + MESSAGE_OVERHEAD_TOKENS
        if cost > left:
            break
        earlier.append(ChatMessage(past.role, past.text))
        left -= cost
    earlier.reverse()

    examples_head = "Examples of how you talk:"
    blocks = [sub(b) for b in example_blocks(card.example_dialogue)]
    examples = _take_lines(blocks, left - _cost(examples_head))
    if examples:
        left -= _cost(examples_head) + sum(_cost(e) for e in examples)

    system = [main]
    system += [sub(e.content) for e in chosen if e.position != "after_char"]
    system += character
    system += [sub(e.content) for e in chosen if e.position == "after_char"]
    if memories:
        system += [memory_head, *memories]
    if summary:
        system += [summary_head, summary]
    if examples:
        system += [examples_head, *examples]
    messages = [ChatMessage("system", "\n".join(system)), *earlier, *latest]
    if post:
        messages.append(ChatMessage("system", post))
    tokens = sum(estimate_tokens(m.content) + MESSAGE_OVERHEAD_TOKENS for m in messages)
    return BuiltContext(
        messages=messages,
        tokens=tokens,
        history_kept=len(earlier) + len(latest),
        memories_kept=len(memories),
        lore_kept=len(chosen),
        examples_kept=len(examples),
    )
