"""Importing and exporting cards as a client does (GraphQL multipart for the upload)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.support.graphql import GraphQLClient

COMPANION_FIELDS = """
id name persona personality scenario greeting alternateGreetings exampleDialogue
systemPrompt postHistoryInstructions pictureUrl lorebookEntryCount traits language
"""
IMPORT = f"""
mutation Import($file: Upload!) {{ importCharacterCard(file: $file) {{ {COMPANION_FIELDS} }} }}
"""
EXPORT = """
mutation Export($id: ID!, $format: CharacterCardFormat!) {
  exportCharacterCard(companionId: $id, format: $format) { url filename format expiresAt }
}
"""
COMPANION = f"query($id: ID!) {{ companion(id: $id) {{ {COMPANION_FIELDS} }} }}"
COMPANION_COUNT = "{ companions(first: 50) { nodes { id } } }"


async def import_card(
    http: httpx.AsyncClient, token: str, data: bytes, filename: str = "card.png"
) -> dict[str, Any]:
    """The whole GraphQL answer to ``importCharacterCard``."""
    operations = {"query": IMPORT, "variables": {"file": None}}
    response = await http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, data, "application/octet-stream")},
        headers={"authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    return body


async def imported(http: httpx.AsyncClient, token: str, data: bytes) -> dict[str, Any]:
    body = await import_card(http, token, data)
    assert "errors" not in body, body["errors"]
    companion: dict[str, Any] = body["data"]["importCharacterCard"]
    return companion


async def export(
    api: GraphQLClient, http: httpx.AsyncClient, token: str, companion_id: str, format: str
) -> tuple[dict[str, Any], bytes]:
    """The export's description and the file behind its URL."""
    data = await api.ok(EXPORT, {"id": companion_id, "format": format}, token)
    described: dict[str, Any] = data["exportCharacterCard"]
    response = await http.get(described["url"])
    assert response.status_code == 200, response.text
    return described, response.content
