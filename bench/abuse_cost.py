"""The most expensive request the server accepts, on a heavy account: what it costs the server.

Seeds one account on SQLite with 50 companions x 40 conversations x 100 messages (bulk
inserts), starts the real server (uvicorn, 1 worker), then builds candidate requests of
several shapes (deep nesting at the largest pages, top-level aliases, aliases at the deepest
level, a per-row resolver), each sized by the server's own cost function to the largest that
fits HOLOMATE_MAX_QUERY_COST, and sends each one. Prints per request the server's CPU
seconds (``/proc/<pid>/stat``), its peak RSS (``VmHWM``) and the response bytes; then the
request from issue 10 (15 aliases x 100 x 100 x 100), which must be refused cheaply.

    .venv/bin/python -m bench.abuse_cost
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from graphql import parse
from sqlalchemy import create_engine, insert, select

from api.graphql_schema import build_schema
from api.query_cost import operation_cost
from api.settings import Settings
from store.migrate import upgrade
from store.models import (
    Companion,
    Conversation,
    ConversationParticipant,
    Message,
    MessageRole,
    MessageStatus,
    ParticipantRole,
    User,
)
from tests.support.graphql import PASSWORD, REGISTER
from tests.support.server import live_server

COMPANIONS, CONVERSATIONS, MESSAGES = 50, 40, 100
MESSAGE_FIELDS = "id conversationId role text status createdAt completedAt errorCode"
TICK = os.sysconf("SC_CLK_TCK")


def seed(sync_url: str, email: str) -> None:
    """Bulk rows under the account ``email`` (already registered through the API)."""
    engine = create_engine(sync_url)
    now = datetime.now(UTC)
    text = "A message of about a hundred characters, as people write them to their companion."
    with engine.begin() as db:
        user_id = db.execute(select(User.id).where(User.email == email)).scalar_one()
        companion_ids = [
            db.execute(
                insert(Companion).values(owner_id=user_id, name=f"C{c}", traits=["kind"])
            ).inserted_primary_key[0]
            for c in range(COMPANIONS)
        ]
        conversations = []
        for companion_id in companion_ids:
            for v in range(CONVERSATIONS):
                conversation_id = db.execute(
                    insert(Conversation).values(
                        companion_id=companion_id, created_by_id=user_id, title=f"T{v}"
                    )
                ).inserted_primary_key[0]
                conversations.append(conversation_id)
        db.execute(
            insert(ConversationParticipant),
            [
                {"conversation_id": c, "user_id": user_id, "role": ParticipantRole.OWNER}
                for c in conversations
            ],
        )
        rows = [
            {
                "conversation_id": c,
                "author_id": user_id if m % 2 == 0 else None,
                "role": MessageRole.USER if m % 2 == 0 else MessageRole.COMPANION,
                "text": text,
                "status": MessageStatus.COMPLETE,
                "created_at": now - timedelta(seconds=MESSAGES - m),
                "timings": {},
                "audio": [],
            }
            for c in conversations
            for m in range(MESSAGES)
        ]
        for start in range(0, len(rows), 20_000):
            db.execute(insert(Message), rows[start : start + 20_000])
    engine.dispose()


def deep(a: int, b: int, c: int) -> str:
    return (
        f"{{ companions(first: {a}) {{ nodes {{ id name conversations(first: {b}) {{ nodes {{ "
        f"id title messages(first: {c}) {{ nodes {{ {MESSAGE_FIELDS} author {{ displayName }} "
        "} } } } } } }"
    )


def top_aliases(k: int, a: int, b: int, c: int) -> str:
    one = (
        f"companions(first: {a}) {{ nodes {{ conversations(first: {b}) {{ nodes {{ "
        f"messages(first: {c}) {{ nodes {{ {MESSAGE_FIELDS} }} }} }} }} }} }}"
    )
    return "{ " + " ".join(f"a{i}: {one}" for i in range(k)) + " }"


def deep_aliases(k: int, a: int, b: int, c: int) -> str:
    messages = " ".join(
        f"m{i}: messages(first: {c}, before: null) {{ nodes {{ text }} }}" for i in range(k)
    )
    return (
        f"{{ companions(first: {a}) {{ nodes {{ conversations(first: {b}) {{ nodes {{ "
        f"{messages} }} }} }} }} }}"
    )


def live_cursors(k: int, a: int, b: int) -> str:
    cursors = " ".join(f"l{i}: liveCursor" for i in range(k))
    return (
        f"{{ companions(first: {a}) {{ nodes {{ conversations(first: {b}) {{ nodes {{ id "
        f"{cursors} }} }} }} }} }}"
    )


def largest(
    shape: Callable[..., str], grid: list[tuple[int, ...]], budget: int, schema: Any
) -> tuple[int, str] | None:
    """The request of this shape with the most rows whose cost fits the budget."""
    best: tuple[int, int, str, tuple[int, ...]] | None = None
    for args in grid:
        query = shape(*args)
        cost = operation_cost(schema, parse(query), None, {})
        rows = 1
        for n in args:
            rows *= n
        if cost <= budget and (best is None or (rows, cost) > best[:2]):
            best = (rows, cost, query, args)
    if best is None:
        return None
    print(f"  {shape.__name__}{best[3]}: cost {best[1]}")
    return best[1], best[2]


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def memory_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def main() -> None:
    budget = Settings().max_query_cost
    schema = build_schema()._schema  # type: ignore[attr-defined]
    pages = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100]
    grid3 = [(a, b, c) for a in pages[:14] for b in pages[:13] for c in pages]
    candidates = {
        "deep companions>conversations>messages (+author)": largest(deep, grid3, budget, schema),
        "15 top-level aliases": largest(
            top_aliases, [(15, *g) for g in grid3 if g[0] <= 10], budget, schema
        ),
        "15 aliases of messages at the deepest level": largest(
            deep_aliases, [(15, *g) for g in grid3 if g[2] <= 20], budget, schema
        ),
        "15 liveCursor aliases per conversation": largest(
            live_cursors, [(15, a, b) for a in pages[:14] for b in pages[:13]], budget, schema
        ),
    }
    attack = top_aliases(15, 100, 100, 100)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite"
        upgrade(f"sqlite+aiosqlite:///{path}")
        with live_server(
            f"sqlite+aiosqlite:///{path}",
            Path(tmp) / "storage",
            HOLOMATE_RATE_LIMIT_IP="",
            HOLOMATE_RATE_LIMIT_ACCOUNT="",
        ) as server:
            http = httpx.Client(timeout=120)
            email = "heavy@example.com"
            registered = http.post(
                server.graphql_url,
                json={
                    "query": REGISTER,
                    "variables": {"email": email, "password": PASSWORD, "name": "Heavy"},
                },
            ).json()
            token = registered["data"]["register"]["accessToken"]
            started = time.perf_counter()
            seed(f"sqlite:///{path}", email)
            rows = COMPANIONS * CONVERSATIONS * MESSAGES
            print(f"seeded {rows:,} messages in {time.perf_counter() - started:.1f} s")
            print(f"budget HOLOMATE_MAX_QUERY_COST={budget}; server pid {server.pid}")
            headers = {"authorization": f"Bearer {token}"}
            http.post(server.graphql_url, json={"query": "{ me { id } }"}, headers=headers)
            print(f"server RSS before: {memory_kib(server.pid, 'VmRSS') / 1024:.0f} MiB")
            for name, found in [*candidates.items(), ("issue 10's request", (None, attack))]:
                if found is None:
                    continue
                cost, query = found
                before = cpu_s(server.pid)
                started = time.perf_counter()
                response = http.post(server.graphql_url, json={"query": query}, headers=headers)
                wall = time.perf_counter() - started
                cpu = cpu_s(server.pid) - before
                errors = response.json().get("errors")
                outcome = "accepted"
                if errors:
                    refusal = errors[0]["extensions"]
                    outcome = f"{refusal['code']} (cost {refusal.get('cost')})"
                print(
                    f"- {name}: cost {cost}, {outcome}; server CPU {cpu:.2f} s, wall {wall:.2f} s, "
                    f"response {len(response.content):,} bytes, "
                    f"peak RSS {memory_kib(server.pid, 'VmHWM') / 1024:.0f} MiB"
                )


if __name__ == "__main__":
    main()
