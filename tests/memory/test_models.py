"""With a capable model configured, memories are formed by it as structured output, and recall
also finds memories by meaning (embeddings); any failure of either falls back to what works
offline. The official openai SDK talks to a local server in the real wire format."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.app import create_app
from api.settings import Settings
from pipeline.embeddings.base import from_bytes
from pipeline.embeddings.openai_embeddings import OpenAIEmbeddings
from pipeline.llm.memory_facts import MemoryFactModel
from services.memories import recall
from services.memories import semantic as semantic_module
from services.memories.forming import MemoryForming
from store.db import make_sessionmaker
from store.models import (
    Companion,
    Conversation,
    Memory,
    MemoryOrigin,
    Message,
    MessageRole,
    MessageStatus,
    User,
)
from tests.memory.api import MEMORIES
from tests.memory.fake_openai import FakeOpenAI
from tests.memory.rows import companion, db_session, memory, person
from tests.pipeline.wire_servers import serve
from tests.support.graphql import GraphQLClient, create_companion, register, start_conversation

pytestmark = pytest.mark.usefixtures("clean_db")
SEND = "mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id } }"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SAID = "Ugh, long day. Ana (my sister) says hi - oh, and I can't eat peanuts at all."


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(
        facts={
            SAID: [
                {
                    "kind": "allergy",
                    "topic": "Allergy:Peanuts",
                    "text": "Ada is allergic to peanuts",
                    "importance": 0.95,
                },  # fmt: skip
                {
                    "kind": "family",
                    "topic": "family:sister:ana",
                    "text": "Ada's sister is Ana",
                    "importance": 0.7,
                },  # fmt: skip
            ]
        }
    )
    with serve(server.app()) as base:
        server.base_url = f"{base}/v1"
        yield server


def sessionmaker_of(session: AsyncSession) -> async_sessionmaker[AsyncSession]:
    engine = session.bind
    assert isinstance(engine, AsyncEngine)
    return make_sessionmaker(engine)


async def turn(session: AsyncSession, text: str) -> tuple[int, int, int]:
    """Ada tells Nova ``text`` in a conversation; returns (conversation, reply, ada) ids."""
    ada = await person(session, "Ada")
    nova = await companion(session, ada)
    conv = Conversation(companion_id=nova.id, created_by_id=ada.id, title="t")
    session.add(conv)
    await session.flush()
    said = Message(conversation_id=conv.id, author_id=ada.id, role=MessageRole.USER, text=text,
                   status=MessageStatus.COMPLETE)  # fmt: skip
    session.add(said)
    await session.flush()
    reply = Message(conversation_id=conv.id, role=MessageRole.COMPANION, text="Oh!",
                    status=MessageStatus.COMPLETE, reply_to_id=said.id)  # fmt: skip
    session.add(reply)
    await session.commit()
    return conv.id, reply.id, ada.id


async def test_a_capable_model_forms_memories_as_structured_output(
    database_url: str, fake: FakeOpenAI
) -> None:
    model = MemoryFactModel(fake.base_url, "sk-test", "gpt-4o-mini")
    async with db_session(database_url) as s:
        conv, reply, _ = await turn(s, SAID)
        forming = MemoryForming(sessionmaker_of(s), hub=None, model=model)
        formed = await forming.form(s, conv, reply)
    await model.aclose()
    assert [(m.kind, m.topic, m.text, m.origin) for m in formed] == [
        ("allergy", "allergy:peanuts", "Ada is allergic to peanuts", MemoryOrigin.MODEL),
        ("family", "family:sister:ana", "Ada's sister is Ana", MemoryOrigin.MODEL),
    ]
    [request] = fake.chat_requests
    schema = request["response_format"]
    assert schema["type"] == "json_schema" and schema["json_schema"]["strict"] is True
    assert request["messages"][-1] == {"role": "user", "content": SAID}
    assert "Ada" in request["messages"][0]["content"]


@pytest.mark.parametrize("failure", ["fail_chat", "malformed"])
async def test_when_the_model_fails_the_offline_extractor_remembers(
    database_url: str, fake: FakeOpenAI, failure: str
) -> None:
    setattr(fake, failure, True)
    model = MemoryFactModel(fake.base_url, "sk-test", "gpt-4o-mini", timeout=5)
    async with db_session(database_url) as s:
        conv, reply, _ = await turn(s, "I'm allergic to peanuts.")
        forming = MemoryForming(sessionmaker_of(s), hub=None, model=model)
        formed = await forming.form(s, conv, reply)
    await model.aclose()
    assert [(m.text, m.origin) for m in formed] == [
        ("Ada is allergic to peanuts", MemoryOrigin.EXTRACTED)
    ]


@pytest.mark.parametrize("vector_math", ["numpy", "plain Python"])
async def test_recall_finds_by_meaning_with_embeddings(
    database_url: str, fake: FakeOpenAI, vector_math: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if vector_math == "plain Python":  # as on a machine without the local model's numpy
        monkeypatch.setattr(semantic_module, "numpy", None)
    embedder = OpenAIEmbeddings(fake.base_url, "sk-test", "fake-embed")
    async with db_session(database_url) as s:
        conv, reply, ada_id = await turn(s, "I'm allergic to peanuts. I play the cello.")
        forming = MemoryForming(sessionmaker_of(s), hub=None, embedder=embedder)
        formed = await forming.form(s, conv, reply)
        assert all(m.embedding_model == "fake-embed" and m.embedding for m in formed)
        assert len(from_bytes(formed[0].embedding or b"")) == 5
        nova_id = formed[0].companion_id
        ada, nova = await s.get_one(User, ada_id), await s.get_one(Companion, nova_id)
        for i in range(6):  # newer, more important chatter that full-text alone would prefer
            await memory(s, ada, nova, f"Ada watched film number {i}", importance=0.9)
        await s.commit()
        question = "Which snack is safe for me?"  # no word in common with the allergy
        plain = await recall(s, companion_id=nova_id, person_ids=[ada_id], query=question,
                             budget_tokens=12, now=NOW)  # fmt: skip
        semantic = await recall(s, companion_id=nova_id, person_ids=[ada_id], query=question,
                                budget_tokens=12, now=NOW, embedder=embedder)  # fmt: skip
        await s.delete(await s.get_one(Memory, formed[0].id))
        await s.commit()
        forgotten = await recall(s, companion_id=nova_id, person_ids=[ada_id], query=question,
                                 budget_tokens=12, now=NOW, embedder=embedder)  # fmt: skip
    await embedder.aclose()
    assert "Ada is allergic to peanuts" not in [m.text for m in plain]
    assert [m.text for m in semantic][0] == "Ada is allergic to peanuts"
    assert "Ada is allergic to peanuts" not in [m.text for m in forgotten]


async def test_recall_without_the_embedding_service_still_answers(
    database_url: str, fake: FakeOpenAI
) -> None:
    fake.fail_embeddings = True
    embedder = OpenAIEmbeddings(fake.base_url, "sk-test", "fake-embed", max_retries=0)
    async with db_session(database_url) as s:
        ada = await person(s)
        nova = await companion(s, ada)
        await memory(s, ada, nova, "Ada is allergic to peanuts")
        await s.commit()
        got = await recall(s, companion_id=nova.id, person_ids=[ada.id], query="peanut cookies?",
                           budget_tokens=100, now=NOW, embedder=embedder)  # fmt: skip
    await embedder.aclose()
    assert [m.text for m in got] == ["Ada is allergic to peanuts"]
    assert isinstance(got[0], Memory)


async def test_the_server_forms_memories_with_the_configured_model_and_embeds_them(
    settings: Settings, clean_db: None, fake: FakeOpenAI
) -> None:
    configured = settings.model_copy(
        update={
            "llm_base_url": fake.base_url,
            "llm_model": "chat-model",
            "memory_llm": "gpt-4o-mini",
            "embeddings_base_url": fake.base_url,
            "embeddings_model": "fake-embed",
        }
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            api = GraphQLClient(http)
            token = (await register(api, "ada@example.com", "Ada"))["accessToken"]
            nova = (await create_companion(api, token, "Nova"))["id"]
            conversation = (await start_conversation(api, token, nova))["id"]
            await api.ok(SEND, {"c": conversation, "t": SAID}, token)
            # Formed in the background after the reply, then embedded (a second commit).
            for _ in range(200):
                data = await api.ok(MEMORIES, {"companionId": nova}, token)
                async with app.state.holo.sessionmaker() as s:
                    models = set((await s.scalars(select(Memory.embedding_model))).all())
                if len(data["memories"]["edges"]) == 2 and None not in models:
                    break
                await asyncio.sleep(0.05)
            nodes = [e["node"] for e in data["memories"]["edges"]]
    assert sorted((n["text"], n["origin"]) for n in nodes) == [
        ("Ada is allergic to peanuts", "MODEL"),
        ("Ada's sister is Ana", "MODEL"),
    ]
    assert models == {"fake-embed"}
    assert fake.chat_requests[-1]["model"] == "gpt-4o-mini"
    assert any(r["model"] == "fake-embed" for r in fake.embedding_requests)
