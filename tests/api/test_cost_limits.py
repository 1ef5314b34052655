"""What one operation may cost: a static budget before it runs (HTTP and both WebSocket
protocols), a time limit while it runs, a size limit on its answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import websockets
from graphql import parse, validate

from api.app import create_app
from api.graphql_schema import build_schema
from api.query_cost import operation_cost
from api.settings import Settings
from tests.conftest import broadcast_env
from tests.support.client_documents import client_operations
from tests.support.graphql import (
    PASSWORD,
    GraphQLClient,
    create_companion,
    register,
    start_conversation,
)
from tests.support.server import live_server

# Every page absent: each counts as the largest (100). 1 + 100 x (1 + 1 + 100 x (1 + 1 +
# 100 x (1 + 1))) = 2,020,201 for companions > conversations > messages.
UNPAGED = "{ companions { nodes { conversations { nodes { messages { nodes { id } } } } } } }"
PAGED_BY_VARIABLES = """
query($a: Int, $b: Int = 2) {
  companions(first: $a) { nodes { conversations(first: $b) { nodes {
    messages(last: 100) { nodes { id text } }
  } } } }
}
"""
LOGIN_ADA = (
    'mutation { login(email: "ada@example.com", password: "correct horse battery") '
    "{ accessToken } }"
)
VIA_FRAGMENTS = """
query { companions(first: 100) { nodes { ...Talks } } }
fragment Talks on Companion { conversations(first: 50) { nodes { ... on Conversation { id } } } }
"""


async def test_a_query_over_the_budget_is_refused_with_its_cost(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    body = await api.raw(UNPAGED, token=token)
    assert "data" not in body
    assert body["errors"][0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": 2_020_201,
        "maxCost": 5000,
    }
    # Fragments and inline fragments count: 1 + 100 x (1 + 1 + 50 x (1 + 1)) = 10,201.
    fragments = (await api.raw(VIA_FRAGMENTS, token=token))["errors"][0]["extensions"]
    assert (fragments["code"], fragments["cost"]) == ("QUERY_TOO_COMPLEX", 10_201)
    # Aliases count: the same field twice costs twice.
    one = "companions(first: 100) { nodes { conversations(first: 1) { nodes { id } } } }"
    alone = await api.raw(f"{{ {one} }}", token=token)
    assert "errors" not in alone  # 1 + 100 x (1 + 1 + 1 x 2) = 401 per alias
    aliased = " ".join(f"a{i}: {one}" for i in range(15))
    refused = (await api.raw(f"{{ {aliased} }}", token=token))["errors"][0]["extensions"]
    assert (refused["code"], refused["cost"]) == ("QUERY_TOO_COMPLEX", 15 * 401)


async def test_page_sizes_given_by_variables_count_at_their_value(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    companion = await create_companion(api, token)
    await start_conversation(api, token, companion["id"])
    # $a absent: the largest page; $b absent: its default, 2. Cost 1 + a x (1 + 1 + b x (1 + 1 +
    # 1 + 100 x (1 + 2))) = 1 + a x (2 + 302 b).
    refused = (await api.raw(PAGED_BY_VARIABLES, {}, token))["errors"][0]["extensions"]
    assert (refused["code"], refused["cost"]) == ("QUERY_TOO_COMPLEX", 1 + 100 * (2 + 302 * 2))
    data = await api.ok(PAGED_BY_VARIABLES, {"a": 5, "b": 2}, token)  # 3,031
    assert len(data["companions"]["nodes"]) == 1
    again = (await api.raw(PAGED_BY_VARIABLES, {"a": 50}, token))["errors"][0]["extensions"]
    assert again["cost"] == 1 + 50 * (2 + 302 * 2)


def test_every_document_the_projects_clients_send_fits_the_budget() -> None:
    schema = build_schema()._schema  # type: ignore[attr-defined]
    budget = Settings().max_query_cost
    operations = client_operations()
    # The extractor found each client's documents (else this test would prove nothing).
    for expected in (
        "web/src/lib/operations.ts:Companions",
        "web/src/lib/operations.ts:Conversation",
        "web/src/lib/operations.ts:ConversationEvents",
        "web/src/lib/account.ts:Devices",
        "unity_client/Runtime/Core/HologramQueries.cs:HologramEvents",
        "tests/clients/live.mjs:Events",
        "tests/clients/rn_client.mjs:Refresh",
        "api/device_cli.py:#3",
    ):
        assert expected in operations, sorted(operations)
    assert len(operations) >= 45
    over = {}
    for name, text in operations.items():
        document = parse(text)
        assert not validate(schema, document), name
        # No variables: every page size given by one counts as the largest page.
        cost = operation_cost(schema, document, None, {})
        if cost > budget:
            over[name] = cost
    assert over == {}, f"over HOLOMATE_MAX_QUERY_COST={budget}: {over}"


async def test_the_budget_holds_on_both_websocket_protocols(
    database_url: str, clean_db: None, tmp_path: Path
) -> None:
    # A small budget, so that an ordinary subscription document is over it.
    with live_server(
        database_url, tmp_path / "storage", HOLOMATE_MAX_QUERY_COST="30", **broadcast_env()
    ) as server:
        events = (
            'subscription { conversationEvents(conversationId: "cnv_1") { '
            "... on VisemeFrames { frames { viseme startMs endMs weight } } } }"
        )  # 1 + 10 x (1 + 4) = 51
        query = "{ companions(first: 20) { nodes { id } } }"  # 1 + 20 x 2 = 41
        for document in (events, query):
            error = await _transport_ws_error(server.ws_url, document)
            assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX", error
            assert error["extensions"]["maxCost"] == 30
        error = await _legacy_ws_error(server.ws_url, events)
        assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 51, "maxCost": 30}
        async with httpx.AsyncClient() as http:
            cheap = await http.post(
                server.graphql_url, json={"query": "{ companions(first: 5) { nodes { id } } }"}
            )
        assert cheap.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"  # it ran


async def _transport_ws_error(url: str, document: str) -> dict[str, Any]:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": document}}))
        message = json.loads(await ws.recv())
        assert message["type"] == "error", message
        error: dict[str, Any] = message["payload"][0]
        return error


async def _legacy_ws_error(url: str, document: str) -> dict[str, Any]:
    async with websockets.connect(url, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        while (message := json.loads(await ws.recv()))["type"] == "ka":
            pass
        assert message["type"] == "connection_ack", message
        await ws.send(json.dumps({"id": "1", "type": "start", "payload": {"query": document}}))
        while (message := json.loads(await ws.recv()))["type"] == "ka":
            pass
        assert message["type"] == "error", message
        error: dict[str, Any] = message["payload"]
        return error


async def test_a_query_past_its_time_limit_answers_operation_timeout_and_mutations_finish(
    settings: Settings, clean_db: None
) -> None:
    register_ada = (
        'mutation { register(email: "ada@example.com", password: "correct horse battery", '
        'displayName: "Ada") { accessToken user { email } } }'
    )
    hasty = create_app(settings.model_copy(update={"operation_timeout_s": 1e-6}))
    async with hasty.router.lifespan_context(hasty):
        transport = httpx.ASGITransport(app=hasty)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            api = GraphQLClient(client)
            # A mutation is never cut off halfway, whatever the limit: it runs to its end.
            data = await api.ok(register_ada)
            assert data["register"]["user"]["email"] == "ada@example.com"
            token = data["register"]["accessToken"]
            # A query waiting on the database has passed its deadline (1 µs) when it resumes.
            error = await api.error("{ companions(first: 5) { nodes { id } } }", token=token)
            assert error["extensions"] == {
                "code": "OPERATION_TIMEOUT",
                "limitSeconds": 1e-6,
                "retryable": False,
            }
            # What waits on nothing finishes; the process goes on serving.
            assert await api.ok("{ __typename }") == {"__typename": "Query"}
            erased = await api.ok(
                "mutation($p: String!) { deleteMyAccount(password: $p) }", {"p": PASSWORD}, token
            )
    assert erased == {"deleteMyAccount": True}
    # The registration and the erasure both completed: the email is free again.
    patient = create_app(settings)
    async with patient.router.lifespan_context(patient):
        transport = httpx.ASGITransport(app=patient)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            again = await GraphQLClient(client).ok(register_ada)
    assert again["register"]["user"]["email"] == "ada@example.com"


async def test_an_answer_over_the_size_cap_answers_response_too_large(
    settings: Settings, clean_db: None
) -> None:
    app = create_app(settings.model_copy(update={"max_response_bytes": 1500}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            api = GraphQLClient(client)
            token = (await register(api, "ada@example.com"))["accessToken"]
            small = await api.ok("{ me { id email } }", token=token)
            assert small["me"]["email"] == "ada@example.com"
            voices = "{ availableVoices { provider voiceId name language } }"
            body = await api.raw(voices, token=token)
            assert "data" not in body
            assert body["errors"][0]["extensions"] == {
                "code": "RESPONSE_TOO_LARGE",
                "maxBytes": 1500,
                "retryable": False,
            }
            # The same answer under the default cap is what the cap refused.
            default = create_app(settings)
            async with default.router.lifespan_context(default):
                other = httpx.ASGITransport(app=default)
                async with httpx.AsyncClient(transport=other, base_url="http://t") as plain:
                    response = await GraphQLClient(plain).ok(voices, token=token)
            assert len(json.dumps(response)) > 1500
