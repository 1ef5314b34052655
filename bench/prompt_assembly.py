"""How long a turn's context takes to assemble, and how many tokens it gives the model.

A conversation with a long history (2,000 messages), 10,000 memories of the person and a
lorebook of 200 entries; each turn loads companion, lorebook, participants, memories (recall)
and history from the database and builds the prompt (services/turn_context.py), as a reply does.
Also the pure builder alone, and the prompt of a typical short turn with a plain companion.

    .venv/bin/python -m bench.prompt_assembly                 # SQLite
    HOLOMATE_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \
        .venv/bin/python -m bench.prompt_assembly             # PostgreSQL
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from api.providers import build_llm
from api.settings import Settings
from pipeline.context import BuiltContext, Character, Turn, TurnInput, build_context
from pipeline.llm.local_model import LocalModelLLM
from pipeline.prompt import estimate_tokens
from services import turn_context
from services.turn_context import ContextConfig
from store.db import make_engine, make_sessionmaker
from store.models import (
    Companion,
    Conversation,
    ConversationParticipant,
    LorebookEntry,
    Memory,
    MemoryOrigin,
    Message,
    MessageRole,
    MessageStatus,
    ParticipantRole,
    User,
)
from tests.support.databases import fresh_database, requested_url

HISTORY = 2000
MEMORIES = 10_000
LORE = 200
RUNS = 200
THINGS = ["tea", "jazz", "hiking", "chess", "painting", "sushi", "cats", "rain", "poetry", "bikes"]
QUESTIONS = [
    "Do you remember what tea I like?",
    "Tell me about the lighthouse at Cabo topic7 again.",
    "I went hiking with my sister yesterday, it was lovely.",
    "What should we talk about tonight?",
]


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def _seed(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as session:
        ada = User(email="ada@example.com", display_name="Ada", password_hash="x")
        session.add(ada)
        await session.flush()
        nova = Companion(
            owner_id=ada.id,
            name="Nova",
            persona="{{char}} is a warm, curious astronomer who lives by the sea. " * 6,
            personality="Gentle, playful, a little shy; loves bad puns.",
            scenario="{{user}} visits {{char}}'s observatory in the evenings.",
            example_dialogue="<START>\n{{user}}: Hi!\n{{char}}: Oh, hello! The sky is clear.\n"
            "<START>\n{{user}}: I'm sad.\n{{char}}: Come, sit with me a while.",
            post_history_instructions="Stay in character as {{char}}.",
            traits=["warm", "curious"],
        )
        session.add(nova)
        await session.flush()
        conversation = Conversation(companion_id=nova.id, created_by_id=ada.id, title="Long")
        session.add(conversation)
        await session.flush()
        session.add(
            ConversationParticipant(
                conversation_id=conversation.id, user_id=ada.id, role=ParticipantRole.OWNER
            )
        )
        session.add_all(
            LorebookEntry(
                companion_id=nova.id,
                keys=[f"topic{i}", f"place{i}"],
                content=f"Lore {i}: the lighthouse at Cabo topic{i} guides ships home. " * 2,
                constant=i < 2,
                insertion_order=i,
                priority=i % 10,
            )
            for i in range(LORE)
        )
        session.add_all(
            Memory(
                owner_id=ada.id,
                companion_id=nova.id,
                text=f"Ada likes {THINGS[i % len(THINGS)]} number {i} with friends.",
                kind="fact",
                topic=f"likes:{i}",
                importance=(i % 7) / 7,
                origin=MemoryOrigin.EXTRACTED,
            )
            for i in range(MEMORIES)
        )
        roles = (MessageRole.USER, MessageRole.COMPANION)
        session.add_all(
            Message(
                conversation_id=conversation.id,
                author_id=ada.id if i % 2 == 0 else None,
                role=roles[i % 2],
                text=f"Message {i}: the stars were bright over the harbour tonight, and so on.",
                status=MessageStatus.COMPLETE,
            )
            for i in range(HISTORY)
        )
        await session.commit()
        ids = (ada.id, conversation.id, 10**12)
    await engine.dispose()
    return ids


async def _timed(runs: int, once: Callable[[int], Awaitable[int]]) -> tuple[list[float], int]:
    times: list[float] = []
    tokens = 0
    for i in range(runs):
        started = time.perf_counter()
        tokens = await once(i)
        times.append((time.perf_counter() - started) * 1000)
    return times, tokens


async def _bench(url: str) -> None:
    user_id, conversation_id, reply_id = await _seed(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    config = ContextConfig()
    last: list[TurnInput] = []

    async def assemble(i: int) -> int:
        async with sessions() as session:
            conversation = await session.get_one(Conversation, conversation_id)
            session.add(
                Message(
                    conversation_id=conversation_id,
                    author_id=user_id,
                    role=MessageRole.USER,
                    text=QUESTIONS[i % len(QUESTIONS)],
                    status=MessageStatus.COMPLETE,
                )
            )
            await session.commit()
            started = time.perf_counter()
            turn = await turn_context.load_turn(session, conversation, user_id, reply_id, config)
            built = build_context(turn, config.budget)
            elapsed.append((time.perf_counter() - started) * 1000)
            last[:] = [turn]
            return built.tokens

    elapsed: list[float] = []
    await _timed(RUNS, assemble)
    turn = last[0]
    built = build_context(turn, config.budget)
    pure, _ = await _timed(RUNS, lambda i: _pure(turn, config))
    print(f"database: {url.split(':')[0]}; {HISTORY} messages, {MEMORIES} memories, {LORE} lore")
    print(
        f"turn context (load + recall + build): p50 {statistics.median(elapsed):.1f} ms, "
        f"p99 {_pct(elapsed, 0.99):.1f} ms over {RUNS} turns"
    )
    print(
        f"pure builder alone: p50 {statistics.median(pure):.2f} ms, p99 {_pct(pure, 0.99):.2f} ms"
    )
    print(
        f"long conversation's prompt: {built.tokens} tokens of {config.budget.tokens} "
        f"(context {config.context_tokens} - reply {config.reply_tokens}); "
        f"{built.history_kept} history turns, {built.memories_kept} memories, "
        f"{built.lore_kept} lore entries, {built.examples_kept} example dialogues"
    )
    typical = TurnInput(
        card=Character(name="Nova", description="A cheerful astronomer who loves tea."),
        user_name="Ada",
        history=[
            Turn("user", "Hi Nova! How was your day?"),
            Turn("assistant", "[joy] Lovely! I watched the sunset over the harbour."),
            Turn("user", "Tell me a fun fact about the stars."),
        ],
    )
    typical_built = build_context(typical, config.budget)
    system = typical_built.messages[0].content
    print(
        f"typical short turn: {typical_built.tokens} prompt tokens "
        f"(system prompt {len(system)} characters, {estimate_tokens(system) + 4} tokens)"
    )
    await engine.dispose()
    await _tokenizer_check({"typical turn": typical_built, "long conversation": built})


async def _tokenizer_check(prompts: dict[str, BuiltContext]) -> None:
    """The estimates against SmolLM2's own tokenizer, when ./dev installed the local model."""
    llm = build_llm(Settings(llm_engine="local"))
    if not isinstance(llm, LocalModelLLM) or not await llm.start():
        print("(local model not installed: no tokenizer check)")
        return
    try:
        for label, prompt in prompts.items():
            real = 0
            for message in prompt.messages:  # + the chat template's role markers, ~5 a message
                real += await llm.count_tokens(message.content) + 5
            print(
                f"{label}: SmolLM2 tokenizer {real} tokens, estimate {prompt.tokens} "
                f"({prompt.tokens / real:.2f}x)"
            )
    finally:
        await llm.aclose()


async def _pure(turn: TurnInput, config: ContextConfig) -> int:
    return build_context(turn, config.budget).tokens


def main() -> None:
    print(f"(HOLOMATE_TEST_DATABASE_URL: {requested_url()})")
    with fresh_database() as url:
        asyncio.run(_bench(url))


if __name__ == "__main__":
    main()
