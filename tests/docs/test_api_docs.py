"""docs/api.md is the API's reference: its examples must run against the schema, and it must
cover every operation and live event, so the page fails CI when the schema grows without it."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    VariableDefinitionNode,
    build_schema,
    get_named_type,
    parse,
    type_from_ast,
    validate,
)
from graphql.execution.values import get_variable_values

from pipeline.errors import ProviderError
from services import errors
from tests.docs.markdown import DOCS, ROOT, Block, blocks

pytestmark = pytest.mark.one_backend

API = DOCS / "api.md"
SCHEMA = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
ROOTS = {
    OperationType.QUERY: SCHEMA.query_type,
    OperationType.MUTATION: SCHEMA.mutation_type,
    OperationType.SUBSCRIPTION: SCHEMA.subscription_type,
}


def examples() -> list[tuple[Block, Block | None]]:
    """Every GraphQL example in docs/, with the fenced block right after it when that is JSON."""
    found = []
    for path in sorted(DOCS.rglob("*.md")):
        fenced = blocks(path)
        for i, block in enumerate(fenced):
            if block.lang != "graphql":
                continue
            after = fenced[i + 1] if i + 1 < len(fenced) else None
            found.append((block, after if after is not None and after.lang == "json" else None))
    return found


EXAMPLES = examples()


def operations(document: DocumentNode) -> list[OperationDefinitionNode]:
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def test_the_docs_have_graphql_examples() -> None:
    assert len([b for b, _ in EXAMPLES if b.path == API]) >= 60


@pytest.mark.parametrize(("block", "variables"), EXAMPLES, ids=[str(b) for b, _ in EXAMPLES])
def test_each_example_is_a_valid_operation_with_valid_variables(
    block: Block, variables: Block | None
) -> None:
    document = parse(block.text)
    assert operations(document), f"{block}: no operation to run"
    assert not validate(SCHEMA, document), f"{block}: {validate(SCHEMA, document)}"
    declared = [op for op in operations(document) if op.variable_definitions]
    if not declared:
        return
    assert len(operations(document)) == 1, f"{block}: one operation per example with variables"
    assert variables is not None, f"{block}: show its variables in a ```json block after it"
    values = json.loads(variables.text)
    definitions = declared[0].variable_definitions or ()
    assert set(values) <= {d.variable.name.value for d in definitions}, f"{variables}: unknown"
    coerced = get_variable_values(SCHEMA, definitions, _uploads_filled(definitions, values))
    assert not isinstance(coerced, list), f"{variables}: {[e.message for e in coerced]}"


def _uploads_filled(
    definitions: Collection[VariableDefinitionNode], values: dict[str, Any]
) -> dict[str, Any]:
    """Files travel as multipart parts: their variables are null in the JSON, as the spec says."""
    filled = dict(values)
    for definition in definitions:
        name = definition.variable.name.value
        named = get_named_type(type_from_ast(SCHEMA, definition.type))
        if named is not None and named.name == "Upload" and filled.get(name) is None:
            filled[name] = "<file part>"
    return filled


def _fields_used(document: DocumentNode) -> Iterator[tuple[OperationType, str]]:
    for op in operations(document):
        for selection in op.selection_set.selections:
            if isinstance(selection, FieldNode):
                yield op.operation, selection.name.value


def _type_conditions(node: Any) -> Iterator[str]:
    for selection in getattr(getattr(node, "selection_set", None), "selections", None) or ():
        if isinstance(selection, InlineFragmentNode) and selection.type_condition:
            yield selection.type_condition.name.value
        yield from _type_conditions(selection)


def _event_unions(schema: GraphQLSchema) -> list[GraphQLUnionType]:
    subscription = schema.subscription_type
    assert subscription is not None
    named: list[GraphQLNamedType] = [get_named_type(f.type) for f in subscription.fields.values()]
    return [t for t in named if isinstance(t, GraphQLUnionType)]


def test_every_operation_of_the_schema_has_an_example_in_api_md() -> None:
    used = set()
    for block, _ in EXAMPLES:
        if block.path == API:
            used |= set(_fields_used(parse(block.text)))
    missing = [
        f"{kind.value} {name}"
        for kind, root in ROOTS.items()
        if isinstance(root, GraphQLObjectType)
        for name in root.fields
        if (kind, name) not in used
    ]
    assert not missing, f"document these in docs/api.md with an example: {missing}"


def test_every_live_event_is_shown_in_api_md() -> None:
    shown = set()
    for block, _ in EXAMPLES:
        if block.path == API:
            for op in operations(parse(block.text)):
                shown |= set(_type_conditions(op))
    text = API.read_text(encoding="utf-8")
    missing = [
        f"{union.name}.{member.name}"
        for union in _event_unions(SCHEMA)
        for member in union.types
        if member.name not in shown or f"`{member.name}`" not in text
    ]
    assert not missing, f"show these events in an example and explain them: {missing}"


def test_every_error_code_is_in_api_md() -> None:
    """The codes a client acts on: services/errors.py's and the providers' (pipeline/errors.py)."""
    text = API.read_text(encoding="utf-8")
    constants = {v for k, v in vars(errors).items() if k.isupper() and isinstance(v, str)}
    providers = {c.code for c in _subclasses(ProviderError)} | {ProviderError.code}
    missing = sorted(code for code in constants | providers if f"`{code}`" not in text)
    assert not missing, f"explain these error codes in docs/api.md: {missing}"


def _subclasses(cls: type[ProviderError]) -> Iterator[type[ProviderError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)
