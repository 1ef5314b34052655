"""At the plan's memory limit, talking never fails: a new memory formed from a conversation
replaces the person's least important, oldest one (rememberMemory answers QUOTA_EXCEEDED
instead: tests/memory/test_memory_api.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services import plans
from services.memories.forming import MemoryForming
from store.db import make_sessionmaker
from store.models import Conversation, Memory, Message, MessageRole, MessageStatus
from tests.memory.rows import companion, db_session, memory, person

pytestmark = pytest.mark.usefixtures("clean_db")


async def test_a_formed_memory_past_the_limit_replaces_the_least_important_oldest(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(plans.PLANS, "free", replace(plans.PLANS["free"], memories=3))
    long_ago = datetime.now(UTC) - timedelta(days=100)
    async with db_session(database_url) as s:
        ada = await person(s)
        nova = await companion(s, ada)
        await memory(s, ada, nova, "Ada's name is Ada", importance=0.9, when=long_ago)
        await memory(s, ada, nova, "Ada liked a film once", importance=0.2, when=long_ago)
        await memory(s, ada, nova, "Ada likes rain", importance=0.2)
        conv = Conversation(companion_id=nova.id, created_by_id=ada.id, title="t")
        s.add(conv)
        await s.flush()
        said = Message(conversation_id=conv.id, author_id=ada.id, role=MessageRole.USER,
                       text="I'm allergic to peanuts.", status=MessageStatus.COMPLETE)  # fmt: skip
        s.add(said)
        await s.flush()
        reply = Message(conversation_id=conv.id, role=MessageRole.COMPANION, text="Noted.",
                        status=MessageStatus.COMPLETE, reply_to_id=said.id)  # fmt: skip
        s.add(reply)
        await s.commit()
        engine = s.bind
        formed = await MemoryForming(make_sessionmaker(engine), hub=None).form(  # type: ignore[arg-type]
            s, conv.id, reply.id
        )
        assert [m.text for m in formed] == ["Ada is allergic to peanuts"]
        kept = sorted((await s.scalars(select(Memory.text))).all())
    assert kept == ["Ada is allergic to peanuts", "Ada likes rain", "Ada's name is Ada"]
