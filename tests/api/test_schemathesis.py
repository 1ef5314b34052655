"""schemathesis fuzzes every root field of the real server, as a signed-in person and bounded:
no answer may be a 5xx or carry INTERNAL_SERVER_ERROR.

A fixed number of examples per field, derandomized, so each run sends the same requests.
Rate limits are off for this server only: the point is what each request does, not how many.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from store.db import make_engine
from tests.conftest import broadcast_env
from tests.support.databases import truncate_all
from tests.support.graphql import PASSWORD, REGISTER
from tests.support.server import LiveServer, live_server

# More for a deeper run by hand: HOLOMATE_TEST_FUZZ_EXAMPLES=200 pytest -s this file.
EXAMPLES_PER_FIELD = int(os.environ.get("HOLOMATE_TEST_FUZZ_EXAMPLES", "12"))
NO_RATE_LIMITS = {
    f"HOLOMATE_RATE_LIMIT_{name}": ""
    for name in ("IP", "ACCOUNT", "LOGIN", "REGISTER", "REQUEST_DEVICE_PAIRING")
}


# Scalars schemathesis cannot draw itself: an upload never fits in a JSON body (null), and any
# JSON value may be a string or a number as much as an object.
schemathesis.graphql.scalar("Upload", st.just(nodes.Null))
schemathesis.graphql.scalar(
    "JSON", st.one_of(st.text(max_size=20).map(nodes.String), st.integers().map(nodes.Int))
)


@pytest.fixture(scope="module")
def fuzzed_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    async def empty() -> None:
        engine = make_engine(database_url)
        await truncate_all(engine)
        await engine.dispose()

    asyncio.run(empty())
    storage = Path(tmp_path_factory.mktemp("schemathesis")) / "storage"
    with live_server(database_url, storage, **NO_RATE_LIMITS, **broadcast_env()) as server:
        yield server


@pytest.fixture(scope="module")
def token(fuzzed_server: LiveServer) -> str:
    registered = httpx.post(
        fuzzed_server.graphql_url,
        json={
            "query": REGISTER,
            "variables": {"email": "fuzz@example.com", "password": PASSWORD, "name": "Fuzz"},
        },
    ).json()
    access: str = registered["data"]["register"]["accessToken"]
    return access


@pytest.mark.slow
@pytest.mark.xdist_group("schemathesis")
def test_no_request_fails_the_server(fuzzed_server: LiveServer, token: str) -> None:
    schema = schemathesis.graphql.from_url(fuzzed_server.graphql_url)
    headers = {"authorization": f"Bearer {token}"}
    answers: Counter[str] = Counter()
    fields = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        fields += 1

        @settings(
            max_examples=EXAMPLES_PER_FIELD,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def fuzz(case: Any) -> None:
            response = case.call(headers=headers, timeout=30)
            what = (case.operation.label, case.body, response.text[:500])
            assert response.status_code < 500, what
            assert "INTERNAL_SERVER_ERROR" not in response.text, what
            errors = response.json().get("errors") or [{"extensions": {"code": "data"}}]
            answers[errors[0].get("extensions", {}).get("code", "?")] += 1

        fuzz()
    print(f"\nschemathesis: {sum(answers.values())} requests on {fields} root fields: {answers}")
    assert fields > 40  # every query and mutation root field
