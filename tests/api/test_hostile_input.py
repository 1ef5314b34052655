"""Bad input over HTTP answers a code, never INTERNAL_SERVER_ERROR or a 5xx: deep or huge JSON,
text that is not Unicode, cursors and ids out of any row's range."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import websockets

from tests.support.graphql import GraphQLClient, create_companion, register, start_conversation
from tests.support.server import LiveServer

UPDATE_NAME = "mutation($n: String!) { updateMe(displayName: $n) { displayName } }"


async def _post(http: httpx.AsyncClient, body: bytes, token: str | None = None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await http.post("/graphql", content=body, headers=headers)
    assert response.status_code < 500, response.text
    assert "INTERNAL_SERVER_ERROR" not in response.text, response.text
    return response


def _first(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["errors"][0]
    return error


async def test_variables_nested_a_thousand_deep_are_a_bad_request(http: httpx.AsyncClient) -> None:
    deep = "[" * 1000 + "]" * 1000  # a 2 KB body: json.loads raised RecursionError (HTTP 500)
    body = b'{"query": "{ __typename }", "variables": {"x": ' + deep.encode() + b"}}"
    response = await _post(http, body)
    assert response.status_code == 400
    assert _first(response)["extensions"] == {"code": "BAD_REQUEST", "maxDepth": 32}
    # Past the bound by one level, still refused; within it, the request runs.
    over = {"query": "{ __typename }", "variables": {"x": _nested(31)}}
    assert _first(await _post(http, json.dumps(over).encode()))["extensions"]["code"] == (
        "BAD_REQUEST"
    )
    within = {"query": "{ __typename }", "variables": {"x": _nested(30)}}
    assert (await _post(http, json.dumps(within).encode())).json() == {
        "data": {"__typename": "Query"}
    }
    # The same bound on GET's variables parameter.
    get = await http.get("/graphql", params={"query": "{ __typename }", "variables": deep})
    assert get.status_code == 400 and _first(get)["extensions"]["code"] == "BAD_REQUEST"


def _nested(levels: int) -> object:
    value: object = []
    for _ in range(levels - 1):
        value = [value]
    return value


async def test_too_many_values_and_non_json_numbers_are_a_bad_request(
    http: httpx.AsyncClient,
) -> None:
    many = {"query": "{ __typename }", "variables": {"x": list(range(20_000))}}
    response = await _post(http, json.dumps(many).encode())
    assert _first(response)["extensions"] == {"code": "BAD_REQUEST", "maxValues": 10_000}
    for literal in (b"NaN", b"Infinity", b"-Infinity", b"1" * 5000):
        body = b'{"query": "{ __typename }", "variables": {"x": ' + literal + b"}}"
        response = await _post(http, body)
        assert response.status_code == 400
        assert _first(response)["extensions"]["code"] == "BAD_REQUEST"


async def test_lone_surrogates_are_bad_user_input(
    http: httpx.AsyncClient, api: GraphQLClient
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    # Before: UnicodeEncodeError in the database driver, INTERNAL_SERVER_ERROR.
    variable = b'{"query": "' + UPDATE_NAME.encode() + b'", "variables": {"n": "Ada\\ud800"}}'
    response = await _post(http, variable, token)
    assert response.status_code == 400
    assert _first(response)["extensions"] == {"code": "BAD_USER_INPUT", "field": "n"}
    nested = (
        b'{"query": "mutation($i: CreateCompanionInput!) { createCompanion(input: $i) { id } }",'
        b' "variables": {"i": {"name": "Mira", "traits": ["kind", "\\udc00"]}}}'
    )
    assert _first(await _post(http, nested, token))["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "i",
    }
    in_query = b'{"query": "mutation { updateMe(displayName: \\"\\ud83d\\") { id } }"}'
    assert _first(await _post(http, in_query, token))["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "query",
    }
    get = await http.get(
        "/graphql",
        params={"query": "query($n: String) { __typename }", "variables": '{"n": "\\udfff"}'},
    )
    assert _first(get)["extensions"] == {"code": "BAD_USER_INPUT", "field": "n"}
    not_utf8 = b'{"query": "{ __typename }", "variables": {"n": "\xff\xfe"}}'
    assert _first(await _post(http, not_utf8))["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "body",
    }
    # A valid pair (an emoji) is text like any other.
    pair = b'{"query": "' + UPDATE_NAME.encode() + b'", "variables": {"n": "Ada \\ud83d\\ude00"}}'
    ok = (await _post(http, pair, token)).json()
    assert ok["data"]["updateMe"]["displayName"] == "Ada \U0001f600"


async def test_a_nul_byte_in_an_email_matches_no_account_and_registers_none(
    http: httpx.AsyncClient,
) -> None:
    # PostgreSQL refuses NUL in text: before, login and register answered INTERNAL_SERVER_ERROR.
    login = (
        b'{"query": "mutation { login(email: \\"\\u0000\\", password: \\"\\") { accessToken } }"}'
    )
    error = _first(await _post(http, login))
    assert error["extensions"]["code"] == "UNAUTHENTICATED", error
    register = (
        b'{"query": "mutation($e: String!) { register(email: $e, password: \\"long-enough-1\\",'
        b' displayName: \\"Ada\\") { accessToken } }",'
        b' "variables": {"e": "ada\\u0000@example.com"}}'
    )
    error = _first(await _post(http, register))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "email"}, error


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


async def test_cursors_past_64_bits_are_bad_user_input(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    companion = await create_companion(api, token)
    conversation = await start_conversation(api, token, companion["id"])
    companions = "query($a: String) { companions(after: $a) { nodes { id } } }"
    messages = (
        "query($c: ID!, $b: String) { conversation(id: $c) { "
        "messages(last: 5, before: $b) { nodes { id } } } }"
    )
    for raw in ("id:99999999999999999999999", f"id:{2**63}", "id:-1", "id:\u00b2", "id:1e5"):
        # Before: OverflowError from the driver (INTERNAL_SERVER_ERROR) for the first two.
        error = await api.error(companions, {"a": _cursor(raw)}, token)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}, raw
        error = await api.error(messages, {"c": conversation["id"], "b": _cursor(raw)}, token)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "before"}, raw
    # The largest id a row can have is a cursor like any other.
    largest = await api.ok(companions, {"a": _cursor(f"id:{2**63 - 1}")}, token)
    assert largest["companions"]["nodes"] == []


async def test_ids_out_of_range_read_as_not_found(api: GraphQLClient) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    query = "query($id: ID!) { companion(id: $id) { id } }"
    # "²".isdigit() is true but int("²") fails: that was INTERNAL_SERVER_ERROR.
    for value in ("cmp_\u00b2", "cmp_\u0661", "cmp_99999999999999999999", f"cmp_{2**63}", "cmp_"):
        error = await api.error(query, {"id": value}, token)
        assert error["extensions"] == {"code": "NOT_FOUND"}, value


async def test_an_event_cursor_past_64_bits_is_bad_user_input(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        api = GraphQLClient(http)
        token = (await register(api, "ada@example.com"))["accessToken"]
        conversation = await start_conversation(
            api, token, (await create_companion(api, token))["id"]
        )
    subscribe = {
        "query": "subscription($c: ID!, $a: String) { "
        "conversationEvents(conversationId: $c, after: $a) { __typename } }",
        "variables": {"c": conversation["id"], "a": str(2**63)},  # was INTERNAL_SERVER_ERROR
    }
    async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        message = json.loads(await ws.recv())
    assert message["payload"]["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "after",
    }


async def test_bodies_that_are_no_request_are_a_bad_request(http: httpx.AsyncClient) -> None:
    # A JSON string, number or null as the whole body: HTTP 500 before.
    for body in (b'"{ __typename }"', b"5", b"null", b"true"):
        response = await _post(http, body)
        assert response.status_code == 400
        assert _first(response)["extensions"] == {"code": "BAD_REQUEST"}, body
    # A subscription over plain HTTP has no stream to answer on: it was INTERNAL_SERVER_ERROR.
    subscription = 'subscription { conversationEvents(conversationId: "cnv_1") { __typename } }'
    response = await _post(http, json.dumps({"query": subscription}).encode())
    assert response.status_code == 400
    assert _first(response) == {
        "message": "subscriptions are not allowed when using POST",
        "extensions": {"code": "BAD_REQUEST"},
    }
