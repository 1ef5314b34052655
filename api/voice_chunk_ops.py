"""Which socket budget an operation spends: a document that only sends voice chunks spends
``ws_voice_chunks`` (a live microphone sends ~10 a second), every other ``ws_operations``.

Told from the document itself, parsed once per distinct text (clients send the same one every
chunk); anything unparseable spends the ordinary budget and fails later as usual."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse

from services.rate_limits import Rule

FIELD = "sendVoiceChunk"
MAX_TEXT = 2000  # a chunk's document is short; longer ones are never exempt


def budget_for(payload: Any) -> Rule:
    query = payload.get("query") if isinstance(payload, dict) else None
    if isinstance(query, str) and FIELD in query and len(query) <= MAX_TEXT:
        return "ws_voice_chunks" if _only_chunks(query) else "ws_operations"
    return "ws_operations"


@lru_cache(maxsize=64)
def _only_chunks(query: str) -> bool:
    try:
        document = parse(query, no_location=True, max_tokens=200)
    except GraphQLError:
        return False
    operations = document.definitions
    if len(operations) != 1 or not isinstance(operations[0], OperationDefinitionNode):
        return False
    operation = operations[0]
    selections = operation.selection_set.selections
    return (
        operation.operation == OperationType.MUTATION
        and len(selections) == 1
        and isinstance(selections[0], FieldNode)
        and selections[0].name.value == FIELD
    )
