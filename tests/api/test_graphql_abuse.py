"""graphql-cop's checks, and a few more: each abuse answers a stable code, having cost the
server nothing beyond reading the request (no SQL statement runs for any of them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from starlette.applications import Starlette

from tests.support.graphql import GraphQLClient, register


@contextmanager
def no_sql(app: Starlette) -> Iterator[None]:
    engine = app.state.holo.sessionmaker.kw["bind"].sync_engine
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert seen == [], seen


async def _refused(
    http: httpx.AsyncClient,
    app: Starlette,
    body: object,
    *,
    status: int = 200,
    method: str = "POST",
) -> dict[str, Any]:
    """An anonymous request's first error, checking that it ran nothing."""
    with no_sql(app):
        if method == "GET":
            assert isinstance(body, dict)
            response = await http.get("/graphql", params=body)
        else:
            response = await http.post(
                "/graphql", content=json.dumps(body), headers={"content-type": "application/json"}
            )
    assert response.status_code == status, response.text
    answer = response.json()
    assert "data" not in answer, answer
    error: dict[str, Any] = answer["errors"][0]
    return error


async def test_alias_overloading(http: httpx.AsyncClient, app: Starlette) -> None:
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(100)) + " }"
    error = await _refused(http, app, {"query": query})
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_field_duplication(
    http: httpx.AsyncClient, app: Starlette, api: GraphQLClient
) -> None:
    # Under the token limit, duplicates merge into one field: a tiny answer.
    token = (await register(api, "ada@example.com"))["accessToken"]
    merged = await api.ok("{ me { " + "id " * 500 + "} }", token=token)
    assert list(merged["me"]) == ["id"]
    over = "{ me { " + "id " * 3000 + "} }"
    assert (await _refused(http, app, {"query": over}))["extensions"]["code"] == (
        "QUERY_TOO_COMPLEX"
    )


async def test_directive_overloading(http: httpx.AsyncClient, app: Starlette) -> None:
    for directive in ("@aa", "@include(if: true)", "@skip(if: false)"):
        query = "query { __typename " + f" {directive}" * 60 + " }"
        error = await _refused(http, app, {"query": query})
        assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX", error
        assert error["message"] == "60 directives found: the maximum is 50"


async def test_batched_queries_are_refused(http: httpx.AsyncClient, app: Starlette) -> None:
    batch = [{"query": "{ __typename }"}] * 100
    error = await _refused(http, app, batch, status=400)
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_mutations_over_get_are_refused(http: httpx.AsyncClient, app: Starlette) -> None:
    query = (
        'mutation { register(email: "a@b.co", password: "pass12345", displayName: "x") '
        "{ user { id } } }"
    )
    error = await _refused(http, app, {"query": query}, status=400, method="GET")
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_circular_introspection(http: httpx.AsyncClient, app: Starlette) -> None:
    level = "fields { type { %s } }"
    inner = "name"
    for _ in range(6):
        inner = level % inner
    query = f"{{ __schema {{ types {{ {inner} }} }} }}"
    error = await _refused(http, app, {"query": query})
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["message"] == "Maximum introspection depth exceeded"


async def test_nested_variables(http: httpx.AsyncClient, app: Starlette) -> None:
    nested: object = "x"
    for _ in range(200):
        nested = {"a": nested}
    body = {"query": "query($v: JSON) { __typename }", "variables": {"v": nested}}
    error = await _refused(http, app, body, status=400)
    assert error["extensions"] == {"code": "BAD_REQUEST", "maxDepth": 32}


async def test_huge_page_sizes(http: httpx.AsyncClient, app: Starlette, api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    # Past 32 bits: the Int type refuses it before anything runs.
    literal = await api.error("{ companions(first: 10000000000) { nodes { id } } }", token=token)
    assert literal["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    variable = await api.error(
        "query($n: Int) { companions(first: $n) { nodes { id } } }", {"n": 10**10}, token
    )
    assert variable["extensions"] == {"code": "BAD_USER_INPUT", "field": "n"}
    # An Int, but over the largest page: refused by the resolver, costed at the largest page.
    big = await api.error("{ companions(first: 2000000) { nodes { id } } }", token=token)
    assert big["extensions"] == {"code": "BAD_USER_INPUT", "field": "first"}
    # Nested, the largest pages multiply past the budget: refused before running anything.
    nested = (
        "{ companions(first: 1000000) { nodes { conversations(first: 1000000) { nodes { "
        "messages(last: 1000000) { nodes { id } } } } } } }"
    )
    error = await _refused(http, app, {"query": nested})
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 2_020_201, "maxCost": 5000}
