"""Device tokens reach the fields listed here and nothing else, checked once per operation.

Every resolver also checks its caller, but a list kept here means a field added later by
someone who forgot a device can call it is still closed to devices.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from services.errors import Forbidden

DEVICE_FIELDS = frozenset(
    {
        "hologramEvents",
        "reportDeviceState",
        "deviceManifest",
        # hands-free talk: the device's own voice sessions with its companion (resolvers check)
        "startVoiceSession",
        "sendVoiceChunk",
        "endVoiceSession",
        "__typename",
    }
)


class DeviceScope(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        viewer = getattr(ctx.context, "viewer", None)
        if viewer is not None and viewer.is_device and ctx.graphql_document is not None:
            fields = set(_root_fields(ctx.graphql_document.definitions, ctx.operation_name))
            refused = sorted(fields - DEVICE_FIELDS)
            if refused:
                raise Forbidden(f"A device token cannot use {', '.join(refused)}")
        yield


def _root_fields(definitions: Any, operation_name: str | None) -> Iterator[str]:
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    for op in operations:
        if operation_name is None or (op.name is not None and op.name.value == operation_name):
            yield from _fields(op.selection_set, fragments, set())


def _fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> Iterator[str]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from _fields(fragment.selection_set, fragments, seen)
