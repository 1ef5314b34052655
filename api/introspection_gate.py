"""Introspection for signed-in people only (the production default).

App developers exploring the API send their access token (GraphiQL's headers pane, codegen's
``--header``) and get the whole schema; an anonymous scanner gets ``UNAUTHENTICATED`` and no
map of the API. Device tokens are refused too: a hologram never needs the schema.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import BREAK, DocumentNode, FieldNode, Visitor, visit
from strawberry.extensions import SchemaExtension

from services.errors import Unauthenticated

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


class IntrospectionGate(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        viewer = getattr(ctx.context, "viewer", None)
        signed_in = viewer is not None and not viewer.is_device
        if not signed_in and ctx.graphql_document is not None:
            if asks_for_schema(ctx.graphql_document):
                raise Unauthenticated("Introspection is open to signed-in accounts only")
        yield


def asks_for_schema(document: DocumentNode) -> bool:
    """``__schema`` or ``__type`` anywhere (fragments included); ``__typename`` is fine."""
    found = _Finder()
    visit(document, found)
    return found.found


class _Finder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_field(self, node: FieldNode, *_: object) -> object:
        if node.name.value in INTROSPECTION_FIELDS:
            self.found = True
            return BREAK
        return None
