"""Load what one turn's prompt needs from the database and build it (pipeline/context.py).

The companion and its card fields, the person's preferences and name, the companion's voice,
its lorebook, the participants' memories (recalled for the latest message), the conversation's
summary and the history the summary does not cover.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.context import (
    Budget,
    BuiltContext,
    Character,
    Recollection,
    Turn,
    TurnInput,
    build_context,
    substitute,
)
from pipeline.embeddings.base import Embedder
from pipeline.llm.base import ChatMessage
from pipeline.reply import ReplyRequest
from pipeline.tts.base import VoiceSettings
from services import lorebook, users
from services.memories import recall
from store.models import (
    Companion,
    Conversation,
    ConversationParticipant,
    Message,
    MessageRole,
    User,
    UserPreference,
    VoiceProfile,
)

HISTORY_MESSAGES = 60  # read at most; the budget decides how many reach the prompt


@dataclass(frozen=True, slots=True)
class ContextConfig:
    """The model's context window and the reply's share of it (HOLOMATE_LLM_CONTEXT_TOKENS,
    HOLOMATE_LLM_REPLY_TOKENS); the prompt gets the rest."""

    context_tokens: int = 2048
    reply_tokens: int = 256
    embedder: Embedder | None = None

    @property
    def budget(self) -> Budget:
        # 10% spare: the estimate ran 5-6% under SmolLM2's own tokenizer on these prompts (the
        # emotion tags' brackets split finely; bench.prompt_assembly prints both).
        return Budget(tokens=max(int((self.context_tokens - self.reply_tokens) * 0.9), 256))


def character_of(companion: Companion) -> Character:
    return Character(
        name=companion.name,
        description="\n".join(p for p in (companion.persona, companion.backstory) if p.strip()),
        personality=companion.personality,
        scenario=companion.scenario,
        traits=tuple(companion.traits or ()),
        language=companion.language,
        system_prompt=companion.system_prompt,
        post_history_instructions=companion.post_history_instructions,
        example_dialogue=companion.example_dialogue,
    )


@dataclass(frozen=True, slots=True)
class Speaking:
    """The rows a turn reads more than once, loaded once: who answers, in which voice, and
    what the person prefers (the session's identity map holds rows only while referenced)."""

    companion: Companion
    prefs: UserPreference | None
    voice: VoiceProfile | None


async def speaking(session: AsyncSession, conversation: Conversation, user_id: int) -> Speaking:
    companion = await session.get_one(Companion, conversation.companion_id)
    prefs = await session.get(UserPreference, user_id)
    voice = (
        await session.get(VoiceProfile, companion.voice_profile_id)
        if companion.voice_profile_id
        else None
    )
    return Speaking(companion, prefs, voice)


async def person_name(session: AsyncSession, user_id: int) -> str:
    """What {{user}} becomes."""
    return await users.called(session, user_id) or "you"


async def load_turn(
    session: AsyncSession,
    conversation: Conversation,
    user_id: int,
    reply_id: int | None,
    config: ContextConfig,
    rows: Speaking | None = None,
    unsent: str = "",
) -> TurnInput:
    """What the reply ``reply_id`` answers. A draft (``reply_id`` None) answers every message
    so far and ``unsent``, as if ``user_id`` had just sent it."""
    rows = rows or await speaking(session, conversation, user_id)
    companion, prefs = rows.companion, rows.prefs
    after = conversation.summary_through_id or 0
    people = await _participants(session, conversation.id)
    before = [] if reply_id is None else [Message.id < reply_id]
    history_rows = (
        await session.execute(
            select(Message.role, Message.text, User.display_name)
            .outerjoin(User, User.id == Message.author_id)
            .where(
                Message.conversation_id == conversation.id,
                Message.id > after,
                *before,
                Message.text != "",
                Message.role != MessageRole.SYSTEM,
            )
            .order_by(Message.id.desc())
            .limit(HISTORY_MESSAGES - bool(unsent))
        )
    ).all()
    history = [
        Turn(
            "assistant" if m.role == MessageRole.COMPANION else "user", m.text, m.display_name or ""
        )
        for m in reversed(history_rows)
    ]
    if unsent:
        history.append(Turn("user", unsent, people.get(user_id) or ""))
    lore = await lorebook.entries_of(session, companion.id, enabled_only=True)
    latest = next((t.text for t in reversed(history) if t.role == "user"), "")
    budget = config.budget
    memories = await recall(
        session,
        companion_id=companion.id,
        person_ids=list(people),
        query=latest,
        budget_tokens=int(budget.tokens * budget.memory_share),
        embedder=config.embedder,
        mark=reply_id is not None,  # a draft writes nothing
    )
    preferences: dict[str, object] = {}
    if prefs is not None:
        preferences = {
            "preferred_name": prefs.preferred_name or "",
            "reply_length": prefs.reply_length,
            "topics_to_avoid": list(prefs.topics_to_avoid or []),
        }
    # What users.called answers, from rows already read (a participant's display name).
    name = (prefs.preferred_name if prefs is not None else None) or people.get(user_id)
    return TurnInput(
        card=character_of(companion),
        user_name=name or await person_name(session, user_id),
        history=history,
        preferences=preferences,
        memories=[Recollection(m.text, people.get(m.owner_id, "")) for m in memories],
        lorebook=[lorebook.entry_of(r) for r in lore],
        summary=conversation.summary,
        shared=len(people) > 1,
    )


async def _participants(session: AsyncSession, conversation_id: int) -> dict[int, str]:
    """The people taking part, by id, with their display names (whose memory is whose)."""
    rows = await session.execute(
        select(User.id, User.display_name)
        .join(ConversationParticipant, ConversationParticipant.user_id == User.id)
        .where(ConversationParticipant.conversation_id == conversation_id)
    )
    return {user_id: name for user_id, name in rows.all()}


async def build(
    session: AsyncSession,
    conversation: Conversation,
    user_id: int,
    reply_id: int,
    config: ContextConfig,
    rows: Speaking | None = None,
) -> BuiltContext:
    turn = await load_turn(session, conversation, user_id, reply_id, config, rows)
    return build_context(turn, config.budget)


async def draft_messages(
    session: AsyncSession,
    conversation: Conversation,
    user_id: int,
    text: str,
    config: ContextConfig,
    rows: Speaking,
) -> list[ChatMessage]:
    """The prompt a reply would get if ``user_id`` sent ``text`` now (nothing is written)."""
    turn = await load_turn(session, conversation, user_id, None, config, rows, unsent=text)
    return build_context(turn, config.budget).messages


async def build_request(
    session: AsyncSession,
    conversation: Conversation,
    user_id: int,
    reply_id: int,
    config: ContextConfig,
    rows: Speaking,
) -> ReplyRequest:
    """The reply to ``user_id``'s latest message: its prompt, voice and where its audio goes."""
    built = await build(session, conversation, user_id, reply_id, config, rows)
    return voice_request(rows, reply_id, built.messages)


async def greeting_text(session: AsyncSession, rows: Speaking, user_id: int) -> str:
    """The companion's first greeting with its names filled in ("" for none). Deterministic:
    a card's ``alternate_greetings`` are kept for export, the first greeting always opens."""
    companion = rows.companion
    name = (rows.prefs.preferred_name if rows.prefs else None) or await person_name(
        session, user_id
    )
    return substitute(companion.greeting, companion.name, name).strip()


def voice_request(rows: Speaking, reply_id: int, messages: Sequence[ChatMessage]) -> ReplyRequest:
    companion, prefs, voice = rows.companion, rows.prefs, rows.voice
    settings = VoiceSettings(
        voice_id=voice.voice_id if voice else "en-us",
        language=voice.language if voice else companion.language,
        speed=voice.speed if voice else 1.0,
        stability=voice.stability if voice else 0.5,
        similarity=voice.similarity if voice else 0.75,
    )
    return ReplyRequest(
        messages=list(messages),
        voice=settings,
        audio_key_prefix=f"users/{companion.owner_id}/audio/{reply_id}",
        speak=prefs.voice_enabled if prefs is not None else True,
    )
