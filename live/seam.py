"""What the live path takes from Strawberry that it does not publish, in one place.

Rendering an event runs graphql-core's public ``execute`` against the graphql-core schema that
Strawberry built, which a ``strawberry.Schema`` keeps as ``_schema`` with no public accessor.
The projection (live/projection.py) also reads which GraphQL type a Strawberry object is and
which fields only read an attribute, from the definitions Strawberry attaches to its types and
to the graphql-core fields it builds. ``tests/realtime/test_strawberry_seam.py`` fails loudly
if a release moves any of these or changes what the renderer relies on (a subscription field
resolves to its root value).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLField, GraphQLSchema
from strawberry import Schema

_BACKREF = "strawberry-definition"  # GraphQLCoreConverter.DEFINITION_BACKREF


def core_schema(schema: Schema) -> GraphQLSchema:
    """The graphql-core schema behind ``schema``, for ``graphql.execute``."""
    core = getattr(schema, "_schema", None)
    if not isinstance(core, GraphQLSchema):
        raise RuntimeError(
            "strawberry.Schema no longer keeps its graphql-core schema as _schema: update "
            "live/seam.py (see tests/realtime/test_strawberry_seam.py)"
        )
    return core


def type_name_of(value: Any) -> str | None:
    """The GraphQL object type a Strawberry object is shown as (None: not one)."""
    definition = getattr(type(value), "__strawberry_definition__", None)
    name = getattr(definition, "name", None)
    return name if isinstance(name, str) else None


def plain_attribute(field: GraphQLField) -> str | None:
    """The attribute a field only reads (no resolver, extension or permission of its own, the
    default resolver ``getattr``); None for any other field."""
    definition = field.extensions.get(_BACKREF)
    if not getattr(definition, "is_basic_field", False):
        return None
    if getattr(definition, "default_resolver", None) is not getattr:
        return None
    name = getattr(definition, "python_name", None)
    return name if isinstance(name, str) else None
