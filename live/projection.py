"""An event's GraphQL result without running the executor, where that is provably the same.

Most live events are plain values (a delta's text, a chunk's signed URL, a list of viseme
frames): every field the subscription selects reads an attribute, and every leaf is the schema
type's own ``serialize``. For such a selection, graphql-core's ``execute`` costs ~0.2-0.4 ms an
event (a list of 60 frames is 240 field resolutions), most of a delivery's CPU. A projection
compiled once per (document, operation, event type) gives the same dict for ~1/10 of that.

Only what it can copy exactly is compiled: fields with no resolver of their own, no field
arguments (except on the subscription's root field, which only picks the stream), no
directives, object types nested (no unions or interfaces below the root), inline fragments and
fragment spreads by type condition, aliases and merged fields in graphql-core's order. Anything
else, or a null where the schema says non-null, returns ``None``: the caller executes as
before. ``tests/realtime/test_projection.py`` holds both to the same bytes for every event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    SelectionSetNode,
    get_operation_ast,
)

from live.seam import plain_attribute, type_name_of

Complete = Callable[[Any], Any]


class _Unsupported(Exception):
    """Not exactly reproducible here: execute instead."""


class Projection:
    """``project(event)`` -> the result's ``data``, or None where only ``execute`` can tell."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self._schema = schema
        self._plans: dict[tuple[str, str | None, str], Complete | None] = {}

    def data(
        self, query: str, document: DocumentNode, operation_name: str | None, event: Any
    ) -> dict[str, Any] | None:
        """``document`` is ``query`` parsed."""
        name = type_name_of(event)
        if name is None:
            return None
        key = (query, operation_name, name)
        if key not in self._plans:
            if len(self._plans) > 4096:
                self._plans.clear()
            self._plans[key] = self._compile(document, operation_name, name)
        plan = self._plans[key]
        if plan is None:
            return None
        try:
            result: dict[str, Any] = plan(event)
        except Exception:  # noqa: BLE001 - a null in a non-null, a value serialize refuses
            return None  # execute reports it as GraphQL does
        return result

    def _compile(
        self, document: DocumentNode, operation_name: str | None, type_name: str
    ) -> Complete | None:
        operation = get_operation_ast(document, operation_name)
        root = self._schema.subscription_type
        concrete = self._schema.get_type(type_name)
        if operation is None or root is None or not isinstance(concrete, GraphQLObjectType):
            return None
        compiler = _Compiler(self._schema, _fragments(document))
        try:
            fields = compiler.collect(root, [operation.selection_set], root_field=True)
            if len(fields) != 1:
                return None
            ((response_key, nodes),) = fields.items()
            field = root.fields.get(nodes[0].name.value)
            if field is None or any(n.name.value != nodes[0].name.value for n in nodes):
                return None
            event_plan = compiler.object_plan(concrete, _selections(nodes))
        except _Unsupported:
            return None
        return lambda event: {response_key: event_plan(event)}


class _Compiler:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]):
        self._schema = schema
        self._fragments = fragments

    def collect(
        self,
        parent: GraphQLObjectType,
        selection_sets: Sequence[SelectionSetNode],
        *,
        root_field: bool = False,
    ) -> dict[str, list[FieldNode]]:
        """Response keys in graphql-core's order, each with the field nodes merged into it."""
        fields: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect_into(parent, selection_set, fields, root_field)
        return fields

    def _collect_into(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        fields: dict[str, list[FieldNode]],
        root_field: bool,
    ) -> None:
        for selection in selection_set.selections:
            if selection.directives:
                raise _Unsupported
            if isinstance(selection, FieldNode):
                if selection.arguments and not root_field:
                    raise _Unsupported
                key = selection.alias.value if selection.alias else selection.name.value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self._applies(condition.name.value, parent):
                    self._collect_into(parent, selection.selection_set, fields, root_field)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self._fragments.get(selection.name.value)
                if fragment is None:
                    raise _Unsupported
                if self._applies(fragment.type_condition.name.value, parent):
                    self._collect_into(parent, fragment.selection_set, fields, root_field)
            else:
                raise _Unsupported

    def _applies(self, condition: str, concrete: GraphQLObjectType) -> bool:
        named = self._schema.get_type(condition)
        if named is concrete:
            return True
        return isinstance(named, (GraphQLInterfaceType, GraphQLUnionType)) and (
            self._schema.is_sub_type(named, concrete)
        )

    def object_plan(
        self, concrete: GraphQLObjectType, selection_sets: Sequence[SelectionSetNode]
    ) -> Complete:
        steps: list[tuple[str, Callable[[Any], Any], Complete]] = []
        for key, nodes in self.collect(concrete, selection_sets).items():
            name = nodes[0].name.value
            if any(n.name.value != name for n in nodes):
                raise _Unsupported  # invalid anyway; never guess
            if name == "__typename":
                steps.append((key, _constant(concrete.name), _same))
                continue
            field = concrete.fields.get(name)
            attribute = None if field is None else plain_attribute(field)
            if field is None or attribute is None:
                raise _Unsupported
            complete = self._completion(field.type, _selections(nodes))
            steps.append((key, _getter(attribute), complete))

        def plan(obj: Any) -> dict[str, Any]:
            return {key: complete(get(obj)) for key, get, complete in steps}

        return plan

    def _completion(
        self, type_: GraphQLOutputType, selection_sets: Sequence[SelectionSetNode]
    ) -> Complete:
        if isinstance(type_, GraphQLNonNull):
            inner = self._completion(type_.of_type, selection_sets)

            def non_null(value: Any) -> Any:
                if value is None:
                    raise _Unsupported  # execute reports the error and nulls the parent
                return inner(value)

            return non_null
        if isinstance(type_, GraphQLList):
            item = self._completion(type_.of_type, selection_sets)

            def listed(value: Any) -> Any:
                if value is None:
                    return None
                if isinstance(value, (str, bytes, dict)):
                    raise _Unsupported
                return [item(v) for v in value]

            return listed
        if isinstance(type_, (GraphQLScalarType, GraphQLEnumType)):
            serialize = type_.serialize

            def leaf(value: Any) -> Any:
                if value is None:
                    return None
                result = serialize(value)
                if result is None:
                    raise _Unsupported
                return result

            return leaf
        if isinstance(type_, GraphQLObjectType):
            plan = self.object_plan(type_, selection_sets)
            return lambda value: None if value is None else plan(value)
        raise _Unsupported  # a union or interface below the root: resolve_type is execute's


def _getter(attribute: str) -> Callable[[Any], Any]:
    return lambda obj: getattr(obj, attribute)


def _constant(value: str) -> Callable[[Any], str]:
    return lambda _obj: value


def _same(value: Any) -> Any:
    return value


def _selections(nodes: Sequence[FieldNode]) -> list[SelectionSetNode]:
    return [n.selection_set for n in nodes if n.selection_set is not None]


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
