"""The one thing the live path takes from Strawberry that it does not publish.

Rendering an event runs graphql-core's public ``execute`` against the graphql-core schema that
Strawberry built, which a ``strawberry.Schema`` keeps as ``_schema`` with no public accessor.
``tests/realtime/test_strawberry_seam.py`` fails loudly if a release moves it or changes what
the renderer relies on (a subscription field resolves to its root value).
"""

from __future__ import annotations

from graphql import GraphQLSchema
from strawberry import Schema


def core_schema(schema: Schema) -> GraphQLSchema:
    """The graphql-core schema behind ``schema``, for ``graphql.execute``."""
    core = getattr(schema, "_schema", None)
    if not isinstance(core, GraphQLSchema):
        raise RuntimeError(
            "strawberry.Schema no longer keeps its graphql-core schema as _schema: update "
            "live/seam.py (see tests/realtime/test_strawberry_seam.py)"
        )
    return core
