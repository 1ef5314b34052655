"""The static cost of an operation: how many fields its answer can hold, at the most.

Every field costs 1 each time it can appear in the answer (``FIELD_WEIGHTS`` for the few that
make a round trip each), and a list multiplies everything
below it by its length: the page asked for (``first``/``last``) of a paginated field, clamped to
the largest page, or the largest page when none is asked; ``UNPAGED_LIST_SIZE`` for a list
with no page argument. A connection's page sizes its ``edges`` and ``nodes``. Aliases,
fragments and inline fragments all count (a union's fragments are summed, as if each could
answer). A page size given by a variable counts at the variable's value. Introspection lists
count once: ``MaxIntrospectionDepthRule`` (graphql-core's, on by default) bounds their nesting.

Fragment costs are memoised, so a document of fragments spreading fragments costs a walk
linear in its size; results are cached per document and page-size values, beside the
parser's and validator's caches.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef

from services.paging import MAX_PAGE, PAGE_SIZE_ARGUMENTS

# A list with no page argument (a person's devices, a conversation's participants, a
# character's animations...): small in practice; the response-size cap bounds the rest.
UNPAGED_LIST_SIZE = 10
# Fields that make a round trip each time they are resolved (no DataLoader batches them):
# ``liveCursor`` reads the replay log once per conversation (~0.6 ms on SQLite).
FIELD_WEIGHTS = {("Conversation", "liveCursor"): 25}
_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}
_ABSENT = object()


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The cost of the operation ``operation_name`` picks (0 if there is none to pick)."""
    return _Walk(schema, document, variables or {}).operation(operation_name)


class _Walk:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.operations = [
            d for d in document.definitions if isinstance(d, OperationDefinitionNode)
        ]
        self.defaults: dict[str, int | None] = {}
        self.memo: dict[tuple[str, int | None], int] = {}
        self.entered: set[str] = set()
        self.used_variables: set[str] = set()

    def operation(self, name: str | None) -> int:
        chosen = [op for op in self.operations if name is None or op.name and op.name.value == name]
        if len(chosen) != 1:
            return 0
        op = chosen[0]
        for definition in op.variable_definitions or ():
            default = definition.default_value
            self.defaults[definition.variable.name.value] = (
                int(default.value) if isinstance(default, IntValueNode) else None
            )
        root = self.schema.get_root_type(op.operation)
        return 0 if root is None else self.selections(root, op.selection_set, None)

    def selections(
        self, parent: GraphQLNamedType, selection_set: SelectionSetNode, page: int | None
    ) -> int:
        """``page``: the page of the connection these selections are on, for its lists."""
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self.field(parent, node, page)
            elif isinstance(node, InlineFragmentNode):
                on = node.type_condition
                typed = self.schema.get_type(on.name.value) if on else parent
                total += self.selections(typed or parent, node.selection_set, page)
            elif isinstance(node, FragmentSpreadNode):
                total += self.spread(node.name.value, page)
        return total

    def spread(self, name: str, page: int | None) -> int:
        key = (name, page)
        if key in self.memo:
            return self.memo[key]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.entered:  # unknown or cyclic: validation refuses
            return 0
        typed = self.schema.get_type(fragment.type_condition.name.value)
        if typed is None:
            return 0
        self.entered.add(name)
        cost = self.selections(typed, fragment.selection_set, page)
        self.entered.discard(name)
        self.memo[key] = cost
        return cost

    def field(self, parent: GraphQLNamedType, node: FieldNode, page: int | None) -> int:
        definition = self.definition(parent, node.name.value)
        if definition is None:
            return 1  # __typename, or a field validation refuses
        named = get_named_type(definition.type)
        own_page = self.page(definition, node)
        is_list = is_list_type(get_nullable_type(definition.type))
        children_page = None if is_list else own_page
        children = (
            self.selections(named, node.selection_set, children_page) if node.selection_set else 0
        )
        weight = FIELD_WEIGHTS.get((parent.name, node.name.value), 1)
        if not is_list:
            return weight + children
        if named.name.startswith("__"):
            length = 1
        elif own_page is not None:
            length = own_page
        elif page is not None:
            length = page
        else:
            length = UNPAGED_LIST_SIZE
        return length * (weight + children)

    def definition(self, parent: GraphQLNamedType, name: str) -> GraphQLField | None:
        if name in _META_FIELDS and parent is self.schema.query_type:
            return _META_FIELDS[name]
        fields = getattr(parent, "fields", None)
        return fields.get(name) if fields is not None else None

    def page(self, definition: GraphQLField, node: FieldNode) -> int | None:
        """The page this field asks for; None when it is not a paginated field."""
        names = [name for name in PAGE_SIZE_ARGUMENTS if name in definition.args]
        if not names:
            return None
        given = [self.argument(node, name) for name in names]
        sizes = [min(max(size, 0), MAX_PAGE) for size in given if size is not None]
        return max(sizes) if sizes else MAX_PAGE

    def argument(self, node: FieldNode, name: str) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                variable = value.name.value
                self.used_variables.add(variable)
                given = self.variables.get(variable, _ABSENT)
                if given is _ABSENT:
                    return self.defaults.get(variable)
                return given if type(given) is int else None
            return None
        return None


@dataclass(slots=True)
class _Plan:
    """One document's page-size variables, and its cost for each set of their values seen."""

    variables: tuple[str, ...]
    costs: OrderedDict[tuple[object, ...], int] = field(default_factory=OrderedDict)


class CostCache:
    """Costs by (document text, operation, page-size values): a small LRU, one per schema."""

    def __init__(self, maxsize: int = 512, values_per_document: int = 8) -> None:
        self.maxsize = maxsize
        self.values_per_document = values_per_document
        self.plans: OrderedDict[tuple[str, str | None], _Plan] = OrderedDict()

    def cost(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int:
        variables = variables or {}
        key = (query, operation_name)
        plan = self.plans.get(key)
        if plan is not None:
            self.plans.move_to_end(key)
            values = _values(plan.variables, variables)
            cost = plan.costs.get(values)
            if cost is not None:
                return cost
        walk = _Walk(schema, document, variables)
        cost = walk.operation(operation_name)
        if plan is None:
            plan = _Plan(tuple(sorted(walk.used_variables)))
            self.plans[key] = plan
            if len(self.plans) > self.maxsize:
                self.plans.popitem(last=False)
        plan.costs[_values(plan.variables, variables)] = cost
        if len(plan.costs) > self.values_per_document:
            plan.costs.popitem(last=False)
        return cost


def _values(names: tuple[str, ...], variables: Mapping[str, Any]) -> tuple[object, ...]:
    """What the cost depends on: each page-size variable's int value, or what stands for it."""
    out: list[object] = []
    for name in names:
        value = variables.get(name, _ABSENT)
        out.append(value if type(value) is int or value is _ABSENT or value is None else "other")
    return tuple(out)
