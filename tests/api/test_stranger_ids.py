"""A stranger's id answers exactly as a missing one, on the paths that act on a message."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.graphql import GraphQLClient, create_companion, register, start_conversation

INTERRUPT = "mutation($id: ID!) { interruptReply(messageId: $id, heardUntilMs: 0) { id status } }"
DELETE = "mutation($id: ID!) { deleteMessage(id: $id) }"
HISTORY = "query($id: ID!) { conversation(id: $id) { messages { nodes { id role } } } }"


async def _greeting_and_stranger(api: GraphQLClient) -> tuple[str, str, str]:
    """The owner's companion greeting (a companion message) and a stranger's token."""
    owner = (await register(api, "owner@example.com", "Owner"))["accessToken"]
    stranger = (await register(api, "stranger@example.com", "Stranger"))["accessToken"]
    companion = await create_companion(api, owner, greeting="Hello!")
    conversation = await start_conversation(api, owner, companion["id"])
    nodes = (await api.ok(HISTORY, {"id": conversation["id"]}, owner))["conversation"]
    message = nodes["messages"]["nodes"][0]
    assert message["role"] == "COMPANION"
    return owner, stranger, message["id"]


@pytest.mark.parametrize("query", [INTERRUPT, DELETE], ids=["interruptReply", "deleteMessage"])
async def test_a_strangers_message_answers_exactly_as_a_missing_one(
    api: GraphQLClient, query: str
) -> None:
    owner, stranger, message_id = await _greeting_and_stranger(api)
    theirs: dict[str, Any] = await api.error(query, {"id": message_id}, stranger)
    missing: dict[str, Any] = await api.error(query, {"id": "msg_999999"}, stranger)
    assert theirs == missing  # message, extensions (code and all), path
    assert theirs["extensions"]["code"] == "NOT_FOUND"
    await api.ok(query, {"id": message_id}, owner)
