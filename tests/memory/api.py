"""The memory operations as a client sends them."""

from __future__ import annotations

from typing import Any

from tests.support.graphql import GraphQLClient

MEMORY_FIELDS = (
    "id companionId text kind importance origin conversationId messageId createdAt updatedAt "
    "lastRecalledAt"
)
MEMORIES = f"""
query Memories($companionId: ID!, $query: String, $first: Int, $after: String) {{
  memories(companionId: $companionId, query: $query, first: $first, after: $after) {{
    edges {{ cursor node {{ {MEMORY_FIELDS} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""
REMEMBER = f"""
mutation Remember($companionId: ID!, $text: String!, $importance: Float) {{
  rememberMemory(companionId: $companionId, text: $text, importance: $importance) {{
    {MEMORY_FIELDS}
  }}
}}
"""
UPDATE = f"""
mutation Update($id: ID!, $text: String, $importance: Float) {{
  updateMemory(id: $id, text: $text, importance: $importance) {{ {MEMORY_FIELDS} }}
}}
"""
FORGET = "mutation Forget($id: ID!) { forgetMemory(id: $id) }"
FORGET_ALL = (
    "mutation ForgetAll($companionId: ID!) { forgetAllMemories(companionId: $companionId) }"
)
MEMORY_SWITCH = """
mutation Switch($id: ID!, $on: Boolean!) {
  updateCompanion(id: $id, input: {memoryEnabled: $on}) { id memoryEnabled }
}
"""


async def memory_texts(
    api: GraphQLClient, token: str, companion_id: str, query: str | None = None
) -> list[str]:
    data = await api.ok(MEMORIES, {"companionId": companion_id, "query": query}, token)
    return [e["node"]["text"] for e in data["memories"]["edges"]]


async def remember(
    api: GraphQLClient, token: str, companion_id: str, text: str, **extra: Any
) -> dict[str, Any]:
    data = await api.ok(REMEMBER, {"companionId": companion_id, "text": text, **extra}, token)
    result: dict[str, Any] = data["rememberMemory"]
    return result
