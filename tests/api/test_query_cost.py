"""Nested lists cost a constant number of SQL statements, however many rows there are."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from store.models import Message, MessageRole, MessageStatus
from tests.support.billing import grant_plan
from tests.support.graphql import GraphQLClient, create_companion, register, start_conversation

# Pages sized to fit the default HOLOMATE_MAX_QUERY_COST (api/query_cost.py).
NESTED = """
{
  companions(first: 10) {
    edges { node { name conversations(first: 5) { edges { node { title
      messages(last: 1) { edges { node { text author { displayName } } } }
      participants { user { displayName } }
    } } } } }
  }
}
"""


@contextmanager
def count_statements(app: Any) -> Iterator[list[str]]:
    engine = app.state.holo.sessionmaker.kw["bind"].sync_engine
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _grow(api: GraphQLClient, app: Any, token: str, companions: int, convs: int) -> None:
    for c in range(companions):
        comp = await create_companion(api, token, f"C{c}")
        for v in range(convs):
            conv = await start_conversation(api, token, comp["id"], f"T{c}.{v}")
            pk = int(conv["id"].split("_")[1])
            async with app.state.holo.sessionmaker() as session:
                for m in range(3):
                    session.add(
                        Message(
                            conversation_id=pk,
                            role=MessageRole.USER,
                            text=f"m{m}",
                            status=MessageStatus.COMPLETE,
                            author_id=1,
                        )
                    )
                await session.commit()


async def test_statement_count_does_not_grow_with_rows(api: GraphQLClient, app: Any) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    await grant_plan(app, "ada@example.com", "pro")  # ten companions: more than free allows
    await _grow(api, app, token, companions=2, convs=2)
    with count_statements(app) as small:
        data = await api.ok(NESTED, token=token)
    assert len(data["companions"]["edges"]) == 2
    await _grow(api, app, token, companions=8, convs=3)
    with count_statements(app) as large:
        data = await api.ok(NESTED, token=token)
    edges = data["companions"]["edges"]
    assert len(edges) == 10
    last = edges[-1]["node"]["conversations"]["edges"][0]["node"]["messages"]["edges"]
    assert [e["node"]["text"] for e in last] == ["m2"]
    print(f"\nSQL statements: {len(small)} for 2x2 conversations, {len(large)} for 10x(2..3)")
    assert len(large) == len(small)
    assert len(large) <= 8
