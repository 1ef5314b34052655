"""Recall: the memories that fit the message come first, within the budget, and only the
people taking part in the conversation are remembered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pipeline.prompt import estimate_tokens
from services.memories import recall
from store.models import Memory
from tests.memory.rows import companion, db_session, memory, person

pytestmark = pytest.mark.usefixtures("clean_db")

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


async def test_the_memory_that_matches_the_message_comes_first(database_url: str) -> None:
    async with db_session(database_url) as s:
        ada = await person(s)
        nova = await companion(s, ada)
        await memory(s, ada, nova, "Ada works as a nurse at the city hospital", importance=0.9)
        await memory(s, ada, nova, "Ada's sister Ana lives in Lisbon", importance=0.5)
        peanuts = await memory(s, ada, nova, "Ada is allergic to peanuts", importance=0.4)
        await s.commit()
        edited = [m.updated_at for m in (await s.scalars(select(Memory).order_by(Memory.id)))]
        got = await recall(
            s,
            companion_id=nova.id,
            person_ids=[ada.id],
            query="Can I eat these peanut cookies?",
            budget_tokens=500,
            now=NOW,
        )
        assert got[0].id == peanuts.id
        assert len(got) == 3
        assert all(m.last_recalled_at == NOW for m in got)
    async with db_session(database_url) as fresh:  # as stored; recalling is not editing
        stored = (await fresh.scalars(select(Memory).order_by(Memory.id))).all()
        assert [m.last_recalled_at for m in stored] == [NOW, NOW, NOW]
        assert [m.updated_at for m in stored] == edited


async def test_a_drafts_recall_marks_nothing_recalled(database_url: str) -> None:
    """A reply begun while the person pauses may never be sent: its recall writes nothing."""
    async with db_session(database_url) as s:
        ada = await person(s)
        nova = await companion(s, ada)
        await memory(s, ada, nova, "Ada is allergic to peanuts", importance=0.4)
        await s.commit()
        query = "Can I eat these peanut cookies?"
        got = await recall(
            s, companion_id=nova.id, person_ids=[ada.id], query=query, budget_tokens=500, mark=False
        )
        assert [m.text for m in got] == ["Ada is allergic to peanuts"]
    async with db_session(database_url) as fresh:
        stored = (await fresh.scalars(select(Memory))).all()
        assert [m.last_recalled_at for m in stored] == [None]


async def test_recall_stays_within_the_token_budget(database_url: str) -> None:
    async with db_session(database_url) as s:
        ada = await person(s)
        nova = await companion(s, ada)
        for i in range(30):
            await memory(s, ada, nova, f"Ada once visited town number {i} " + "x" * 40)
        await s.commit()
        got = await recall(
            s, companion_id=nova.id, person_ids=[ada.id], query="town", budget_tokens=60, now=NOW
        )
        assert 1 <= len(got) <= 3
        assert sum(estimate_tokens(m.text) + 2 for m in got) <= 60


@pytest.mark.parametrize(
    "query",
    [
        '"',
        'peanuts"',
        "NEAR(peanuts ada)",
        "peanut*",
        "^ada",
        "text: peanuts",
        "a AND OR NOT",
        "(((",
        "'; DROP TABLE memories; --",
        "ada:*",
        "!peanuts & | <->",
        "\x00\u202e",
        "",
    ],
)
async def test_hostile_query_text_is_only_words(database_url: str, query: str) -> None:
    async with db_session(database_url) as s:
        ada = await person(s)
        nova = await companion(s, ada)
        await memory(s, ada, nova, "Ada is allergic to peanuts")
        await s.commit()
        got = await recall(
            s, companion_id=nova.id, person_ids=[ada.id], query=query, budget_tokens=100, now=NOW
        )
        assert [m.text for m in got] == ["Ada is allergic to peanuts"]


async def test_without_searchable_words_recent_and_important_memories_come_first(
    database_url: str,
) -> None:
    async with db_session(database_url) as s:
        ada = await person(s)
        nova = await companion(s, ada)
        old = await memory(
            s,
            ada,
            nova,
            "Ada liked kites as a child",
            importance=0.3,
            when=NOW - timedelta(days=300),
        )
        name = await memory(
            s, ada, nova, "Ada's name is Ada", importance=0.9, when=NOW - timedelta(days=300)
        )
        fresh = await memory(
            s,
            ada,
            nova,
            "Ada is going to Porto next week",
            importance=0.5,
            when=NOW - timedelta(hours=1),
        )
        await s.commit()
        got = await recall(
            s,
            companion_id=nova.id,
            person_ids=[ada.id],
            query="hi, how are you?",
            budget_tokens=500,
            now=NOW,
        )
        order = [m.id for m in got]
        assert order.index(name.id) < order.index(old.id)
        assert order.index(fresh.id) < order.index(old.id)


async def test_only_the_people_taking_part_and_this_companion_are_recalled(
    database_url: str,
) -> None:
    async with db_session(database_url) as s:
        ada, bo, cy = await person(s, "Ada"), await person(s, "Bo"), await person(s, "Cy")
        nova = await companion(s, ada)
        other = await companion(s, ada, "Orion")
        await memory(s, ada, nova, "Ada loves tea")
        await memory(s, bo, nova, "Bo loves tea too")
        await memory(s, cy, nova, "Cy loves tea most of all")
        await memory(s, ada, other, "Ada loves tea with Orion")
        await s.commit()
        got = await recall(
            s,
            companion_id=nova.id,
            person_ids=[ada.id, bo.id],
            query="tea",
            budget_tokens=500,
            now=NOW,
        )
        assert sorted(m.text for m in got) == ["Ada loves tea", "Bo loves tea too"]


async def test_memory_off_recalls_nothing(database_url: str) -> None:
    async with db_session(database_url) as s:
        ada = await person(s)
        nova = await companion(s, ada)
        await memory(s, ada, nova, "Ada loves tea")
        nova.memory_enabled = False
        await s.commit()
        got = await recall(
            s, companion_id=nova.id, person_ids=[ada.id], query="tea", budget_tokens=500, now=NOW
        )
        assert got == []


async def test_an_edited_or_forgotten_memory_is_searched_as_it_is_now(database_url: str) -> None:
    async with db_session(database_url) as s:
        ada = await person(s)
        nova = await companion(s, ada)
        first = await memory(s, ada, nova, "Ada likes coffee")
        gone = await memory(s, ada, nova, "Ada plays the cello")
        await s.commit()
        first.text = "Ada likes green tea"
        await s.delete(gone)
        await s.commit()
        assert [
            m.id
            for m in await recall(
                s,
                companion_id=nova.id,
                person_ids=[ada.id],
                query="green tea",
                budget_tokens=20,
                now=NOW,
            )
        ] == [first.id]
        got = await recall(
            s,
            companion_id=nova.id,
            person_ids=[ada.id],
            query="cello coffee",
            budget_tokens=500,
            now=NOW,
        )
        assert [m.text for m in got] == ["Ada likes green tea"]
