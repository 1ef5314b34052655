"""Memory recall time with 10,000 memories for one person, and the offline extractor's quality.

For SQLite and PostgreSQL (when reachable): one person with 10,000 memories of one companion
(plus 2,000 of another person, which recall must skip), then ``services.memories.recall`` for a
mix of messages: words that match many memories, a rare word, and small talk with no searchable
word (recency and importance only); then with a 1,536-dimension vector stored for each memory and
an in-process embedder, semantic recall (exact cosine over all 10,000). Prints p50/p99 per
kind (target p99 < 10 ms). Then the offline extractor's precision and recall on the everyday
sentences of the tests, and its speed.

    .venv/bin/python -m bench.memory_recall
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update

from pipeline.embeddings.base import to_bytes
from pipeline.memory_extractor import extract
from services.memories import recall
from store.db import make_engine, make_sessionmaker
from store.models import Companion, Memory, MemoryOrigin, User
from tests.memory.extractor_cases import CASES, HELD_OUT
from tests.memory.test_extractor import score
from tests.support.databases import DEFAULT_PG, fresh_database

MEMORIES = 10_000
RUNS = 300
BUDGET = 300  # tokens: about what a 2,048-token context gives memories
THINGS = ["tea", "jazz", "hiking", "chess", "painting", "sushi", "cats", "rain", "poetry",
          "bikes", "cello", "peanuts", "running", "gardening", "Lisbon", "Berlin", "novels",
          "coffee"]  # fmt: skip
PEOPLE = ["Ana", "Tom", "Maria", "Rex", "Luis", "Sam", "Noor", "Kai"]
TEMPLATES = [
    "Ada likes {t}",
    "Ada doesn't like {t}",
    "Ada's friend {p} loves {t}",
    "Ada went to a {t} class with {p} on day {i}",
    "Ada is going to try {t} again next week (note {i})",
    "Ada told a long story about {t} and {p} number {i}",
]
QUERIES = {
    "common words": ["Do you remember what I said about tea and jazz?", "Shall we talk chess?"],
    "rare word": ["Do you remember 4242?"],
    "small talk": ["hi, how are you?", "ok"],
}


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def _seed(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    rng = random.Random(7)
    now = datetime.now(UTC)
    async with make_sessionmaker(engine)() as s:
        ada = User(email="ada@example.com", display_name="Ada", password_hash="x")
        bo = User(email="bo@example.com", display_name="Bo", password_hash="x")
        s.add_all([ada, bo])
        await s.flush()
        nova = Companion(owner_id=ada.id, name="Nova", traits=[])
        s.add(nova)
        await s.flush()
        rows = []
        for i in range(MEMORIES + 2000):
            text = rng.choice(TEMPLATES).format(t=rng.choice(THINGS), p=rng.choice(PEOPLE), i=i)
            when = now - timedelta(minutes=rng.randint(0, 60 * 24 * 730))
            rows.append({"owner_id": ada.id if i < MEMORIES else bo.id, "companion_id": nova.id,
                         "text": text, "kind": "fact", "importance": rng.random(),
                         "origin": MemoryOrigin.EXTRACTED, "created_at": when,
                         "updated_at": when})  # fmt: skip
        for start in range(0, len(rows), 1000):
            await s.execute(insert(Memory), rows[start : start + 1000])
        await s.commit()
        ids = (ada.id, nova.id)
    if url.startswith("postgresql"):  # what autovacuum does after a bulk insert
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE memories")
    await engine.dispose()
    return ids


async def _measure(url: str) -> dict[str, list[float]]:
    ada_id, nova_id = await _seed(url)
    timings = await _measure_plain(url, ada_id, nova_id)
    timings[f"+ {DIMENSIONS}-d vectors"] = await _measure_semantic(url, ada_id, nova_id)
    return timings


async def _measure_plain(url: str, ada_id: int, nova_id: int) -> dict[str, list[float]]:
    engine = make_engine(url)
    timings: dict[str, list[float]] = {kind: [] for kind in QUERIES}
    recalled: list[int] = []
    cpu_started = time.process_time()
    async with make_sessionmaker(engine)() as s:
        for run in range(RUNS + 20):
            for kind, queries in QUERIES.items():
                query = queries[run % len(queries)]
                started = time.perf_counter()
                got = await recall(s, companion_id=nova_id, person_ids=[ada_id], query=query,
                                   budget_tokens=BUDGET)  # fmt: skip
                if run >= 20:  # warm-up first
                    timings[kind].append((time.perf_counter() - started) * 1000)
                    recalled.append(len(got))
    cpu_ms = (time.process_time() - cpu_started) * 1000 / ((RUNS + 20) * len(QUERIES))
    await engine.dispose()
    # CPU time of this process (SQLAlchemy, the driver, SQLite itself; not PostgreSQL's server):
    # what a recall costs when the machine is not shared, unlike wall-clock percentiles.
    print(f"  CPU per recall in this process: {cpu_ms:.2f} ms")
    print(f"  memories recalled per turn: {statistics.median(recalled):.0f} (budget {BUDGET})")
    return timings


DIMENSIONS = 1536  # OpenAI's text-embedding-3-small


class LocalVectors:
    """An embedder answering at once with a vector drawn from the text (no network): what is
    measured is recall's own work with 10,000 stored vectors, not the provider's latency."""

    model = "bench-vectors"

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return [_vector(text) for text in texts]


def _vector(text: str) -> list[float]:
    rng = random.Random(text)
    return [rng.uniform(-1, 1) for _ in range(DIMENSIONS)]


async def _measure_semantic(url: str, ada_id: int, nova_id: int) -> list[float]:
    engine = make_engine(url)
    async with make_sessionmaker(engine)() as s:
        ids = (await s.scalars(select(Memory.id).where(Memory.owner_id == ada_id))).all()
        for memory_id in ids:
            await s.execute(
                update(Memory)
                .where(Memory.id == memory_id)
                .values(
                    embedding=to_bytes(_vector(str(memory_id))), embedding_model="bench-vectors"
                )
            )
        await s.commit()
        timings = []
        embedder = LocalVectors()
        for run in range(RUNS // 3 + 5):
            started = time.perf_counter()
            await recall(s, companion_id=nova_id, person_ids=[ada_id], query=f"tea {run}",
                         budget_tokens=BUDGET, embedder=embedder)  # fmt: skip
            if run >= 5:  # the first reads and caches the vectors
                timings.append((time.perf_counter() - started) * 1000)
    await engine.dispose()
    return timings


def _report(engine: str, timings: dict[str, list[float]]) -> None:
    every = [t for kind, values in timings.items() if kind in QUERIES for t in values]
    for kind, values in [*timings.items(), ("all full-text", every)]:
        print(f"  {engine:10} {kind:13} p50 {statistics.median(values):6.2f} ms   "
              f"p99 {_pct(values, 0.99):6.2f} ms   ({len(values)} recalls)")  # fmt: skip


def _bench(url_kind: str) -> None:
    with fresh_database() as url:
        print(f"{url_kind}: {MEMORIES:,} memories of one person (+2,000 of another)")
        _report(url_kind, asyncio.run(_measure(url)))


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    os.environ.pop("HOLOMATE_TEST_DATABASE_URL", None)
    _bench("SQLite")
    os.environ["HOLOMATE_TEST_DATABASE_URL"] = os.environ.get("HOLOMATE_BENCH_PG", DEFAULT_PG)
    try:
        _bench("PostgreSQL")
    except OSError as e:
        print(f"PostgreSQL: skipped ({e})")
    precision, recall_, _ = score(CASES)
    started = time.perf_counter()
    for _ in range(20):
        for sentence, _wanted in CASES:
            extract(sentence, "Ada")
    per_message = (time.perf_counter() - started) / (20 * len(CASES)) * 1e6
    print(f"offline extractor on {len(CASES)} everyday sentences: precision {precision:.2f}, "
          f"recall {recall_:.2f}, {per_message:.0f} µs per message")  # fmt: skip
    precision, recall_, _ = score(HELD_OUT)
    print(f"offline extractor on {len(HELD_OUT)} held-out sentences (never used to tune it): "
          f"precision {precision:.2f}, recall {recall_:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
