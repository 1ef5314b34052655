"""The auth flow through a real server with the `gql` client, as a Python app would use it."""

from __future__ import annotations

import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

from tests.support.server import LiveServer

REGISTER = gql(
    'mutation($e: String!, $p: String!) { register(email: $e, password: $p, displayName: "Ada")'
    " { accessToken refreshToken user { id } } }"
)
ME = gql("{ me { id email } }")
REFRESH = gql(
    "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }"
)


def _client(server: LiveServer, token: str | None = None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(transport=HTTPXAsyncTransport(url=server.graphql_url, headers=headers))


async def test_register_me_refresh_over_real_http(server: LiveServer) -> None:
    async with _client(server) as session:
        reg = await session.execute(
            REGISTER, variable_values={"e": "ada@example.com", "p": "correct horse"}
        )
    tokens = reg["register"]
    async with _client(server, tokens["accessToken"]) as session:
        me = await session.execute(ME)
    assert me["me"] == {"id": tokens["user"]["id"], "email": "ada@example.com"}
    async with _client(server) as session:
        rotated = await session.execute(REFRESH, variable_values={"t": tokens["refreshToken"]})
        with pytest.raises(TransportQueryError) as reused:
            await session.execute(REFRESH, variable_values={"t": tokens["refreshToken"]})
    assert reused.value.errors is not None
    assert reused.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert rotated["refreshToken"]["accessToken"]
