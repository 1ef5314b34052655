"""Conversation summaries: once a conversation's unsummarised history outgrows the room its
prompts leave for history, its older turns are folded into ``Conversation.summary``, which the
prompt then reads instead of them (services/turn_context.py reads only messages after
``summary_through_id``).

Runs in the background after each turn (ReplyService.after_turn). Only a run of finished turns
from the oldest is folded (a reply still streaming stops the fold there); an interrupted reply's
text is already what was heard. Two turns ending at once cannot corrupt it: the update applies
only if ``summary_through_id`` is still what the fold started from, else it starts again.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline.context import Budget, TurnInput, build_context
from pipeline.llm.base import ChatMessage, LLMProvider
from pipeline.prompt import MESSAGE_OVERHEAD_TOKENS, estimate_tokens
from pipeline.summary import MAX_CHARS, SpokenTurn, extractive, transcript
from services.turn_context import ContextConfig, character_of
from store.base import utcnow
from store.models import Companion, Conversation, Message, MessageRole, MessageStatus, User

log = logging.getLogger("holomate.summaries")
KEEP_SHARE = 0.5  # a fold keeps the newest turns worth this share of the history's room
MAX_ROWS = 2000
_TAGS = re.compile(r"\[[^\]\n]{0,40}\]")
_INSTRUCTION = (
    "You keep a running summary of a conversation. Update the summary with the new lines in at "
    "most six short sentences. Keep facts about the people (names, likes, family, work, plans, "
    "dates) and what happened. Plain sentences, no lists."
)


def history_room(companion: Companion, budget: Budget) -> int:
    """Tokens the history can have in this companion's prompts: what its main prompt and card
    leave once memories, lorebook and summary took their shares (at least an eighth)."""
    fixed = build_context(TurnInput(character_of(companion), "someone", []), budget).tokens
    shares = budget.memory_share + budget.lore_share + budget.summary_share
    return max(budget.tokens - fixed - int(budget.tokens * shares), budget.tokens // 8)


@dataclass(frozen=True, slots=True)
class _Fold:
    previous: str
    through: int | None  # the summary's end when the fold started (the update's guard)
    turns: list[SpokenTurn]
    last_id: int


@dataclass(slots=True)
class Summaries:
    sessionmaker: async_sessionmaker[AsyncSession]
    config: ContextConfig
    llm: LLMProvider | None = None  # set when the model is capable of summarising
    llm_timeout_s: float = 30.0

    async def after_turn(self, conversation_id: int, reply_id: int) -> None:
        for _ in range(3):  # a concurrent fold won: look again from its end
            if await self.fold(conversation_id):
                return

    async def fold(self, conversation_id: int) -> bool:
        """Fold what overflows; False when another fold changed the summary meanwhile."""
        async with self.sessionmaker() as session:
            fold = await self._to_fold(session, conversation_id)
        if fold is None:
            return True
        summary = await self.summarise(fold.previous, fold.turns)
        guard = (
            Conversation.summary_through_id.is_(None)
            if fold.through is None
            else Conversation.summary_through_id == fold.through
        )
        async with self.sessionmaker() as session:
            saved = await session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, guard)
                .values(
                    summary=summary, summary_through_id=fold.last_id, summary_updated_at=utcnow()
                )
            )
            await session.commit()
        return bool(saved.rowcount)  # type: ignore[attr-defined]

    async def summarise(self, previous: str, turns: Sequence[SpokenTurn]) -> str:
        """With a capable model, its summary; offline or on any failure, the extractive one."""
        if self.llm is not None:
            try:
                return await asyncio.wait_for(self._by_model(previous, turns), self.llm_timeout_s)
            except Exception as e:  # noqa: BLE001 - any failure: the offline summary
                log.warning("summary by the model failed, extractive instead: %r", e)
        return extractive(previous, turns)

    async def _by_model(self, previous: str, turns: Sequence[SpokenTurn]) -> str:
        assert self.llm is not None
        ask = (
            f"Summary so far:\n{previous or '(none)'}\n\nNew lines:\n{transcript(turns)}\n\n"
            "The updated summary:"
        )
        messages = [ChatMessage("system", _INSTRUCTION), ChatMessage("user", ask)]
        text = "".join([fragment async for fragment in self.llm.stream(messages)])
        text = " ".join(_TAGS.sub("", text).split())
        if not text:
            raise ValueError("the model answered nothing")
        return text[: 2 * MAX_CHARS]

    async def _to_fold(self, session: AsyncSession, conversation_id: int) -> _Fold | None:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None:
            return None
        through = conversation.summary_through_id
        rows = (
            await session.execute(
                select(Message.id, Message.role, Message.text, Message.status, User.display_name)
                .outerjoin(User, User.id == Message.author_id)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.id > (through or 0),
                    Message.role != MessageRole.SYSTEM,
                )
                .order_by(Message.id)
                .limit(MAX_ROWS)
            )
        ).all()
        # Only finished turns, from the oldest up to the first reply still streaming.
        finished = []
        for row in rows:
            if row.status == MessageStatus.STREAMING:
                break
            finished.append(row)
        heard = [r for r in finished if r.text and r.status != MessageStatus.FAILED]
        cost = [estimate_tokens(r.text) + MESSAGE_OVERHEAD_TOKENS for r in heard]
        companion = await session.get_one(Companion, conversation.companion_id)
        room = history_room(companion, self.config.budget)
        if sum(cost) <= room:
            return None
        keep, kept = room * KEEP_SHARE, 0
        cut = len(heard)
        while cut > 0 and kept + cost[cut - 1] <= keep:
            cut -= 1
            kept += cost[cut]
        folded = heard[:cut] or heard[:1]
        turns = [
            SpokenTurn(companion.name, r.text, False)
            if r.role == MessageRole.COMPANION
            else SpokenTurn(r.display_name or "Someone", r.text, True)
            for r in folded
        ]
        return _Fold(conversation.summary or "", through, turns, folded[-1].id)
