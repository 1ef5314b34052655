"""Calling the API like a client does, and asserting on its answers."""

from __future__ import annotations

from typing import Any

import httpx


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def raw(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body: dict[str, Any] = response.json()
        return body

    async def ok(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        body = await self.raw(query, variables, token)
        assert "errors" not in body, body.get("errors")
        data: dict[str, Any] = body["data"]
        return data

    async def error(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The first error; fails if the operation succeeded."""
        body = await self.raw(query, variables, token)
        assert body.get("errors"), f"expected an error, got {body}"
        first: dict[str, Any] = body["errors"][0]
        return first


REGISTER = """
mutation Register($email: String!, $password: String!, $name: String!) {
  register(email: $email, password: $password, displayName: $name) {
    accessToken refreshToken accessTokenExpiresAt user { id email displayName }
  }
}
"""
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken refreshToken user { id } }
}
"""
CREATE_COMPANION = """
mutation Create($input: CreateCompanionInput!) {
  createCompanion(input: $input) { id name persona traits language greeting }
}
"""
START_CONVERSATION = """
mutation Start($companionId: ID!, $title: String) {
  startConversation(companionId: $companionId, title: $title) { id title }
}
"""
PASSWORD = "correct horse battery"


async def register(api: GraphQLClient, email: str, name: str = "Ada") -> dict[str, Any]:
    data = await api.ok(REGISTER, {"email": email, "password": PASSWORD, "name": name})
    result: dict[str, Any] = data["register"]
    return result


async def create_companion(
    api: GraphQLClient, token: str, name: str = "Mira", **fields: Any
) -> dict[str, Any]:
    data = await api.ok(CREATE_COMPANION, {"input": {"name": name, **fields}}, token)
    result: dict[str, Any] = data["createCompanion"]
    return result


async def start_conversation(
    api: GraphQLClient, token: str, companion_id: str, title: str | None = None
) -> dict[str, Any]:
    data = await api.ok(START_CONVERSATION, {"companionId": companion_id, "title": title}, token)
    result: dict[str, Any] = data["startConversation"]
    return result
