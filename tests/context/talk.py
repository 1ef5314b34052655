"""Talking to a companion in process and waiting for what follows a turn."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from tests.support.graphql import GraphQLClient

SEND = "mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id } }"
NEWEST = """query($c: ID!) { conversation(id: $c) {
  summary summaryUpdatedAt messages(last: 1) { nodes { id text status } } } }"""
QUIET = "mutation { setPreferences(input: {voiceEnabled: false}) { voiceEnabled } }"


async def eventually(check: Callable[[], Awaitable[Any]], within_s: float = 15) -> Any:
    """``check()`` once it is truthy (background work after a turn), else fail."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        value = await check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "still waiting"
        await asyncio.sleep(0.05)


async def conversation(api: GraphQLClient, token: str, conversation_id: str) -> dict[str, Any]:
    data: dict[str, Any] = (await api.ok(NEWEST, {"c": conversation_id}, token))["conversation"]
    return data


async def talk(api: GraphQLClient, token: str, conversation_id: str, text: str) -> str:
    """Say ``text`` and wait for the whole reply; returns its text."""
    await api.ok(SEND, {"c": conversation_id, "t": text}, token)

    async def finished() -> str | None:
        newest = (await conversation(api, token, conversation_id))["messages"]["nodes"][0]
        done = newest["status"] != "STREAMING" and newest["text"] != text
        return newest["text"] if done else None

    reply: str = await eventually(finished)
    return reply
