"""What one operation may cost, on every transport: a budget checked before it runs, a time
limit while it runs, and a size limit on what it answers.

An extension rather than a validation rule because a page size may come from a variable and
validation never sees variables; it sits after ``ValidationCache`` so it only costs documents
that are valid, and keeps its own cache (``api.query_cost.CostCache``).

Only queries are cut off at the time limit: they write nothing, so stopping one loses nothing.
A mutation stopped between its commit and what follows it (publishing the message, starting
the reply, ending a session's sockets) would leave half its work done, and a client retrying
it would do the first half twice; its cost is bounded by the budget and its own limits (the
speech-to-text queue and timeout for ``sendVoiceMessage``). A subscription's lifetime is not
timed; each operation starting one is costed like any other.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    ValidationRule,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from api.query_cost import CostCache
from api.request_json import JsonLimits, first_problem
from services.errors import (
    AppError,
    OperationTimeout,
    QueryTooCostly,
    ResponseTooLarge,
)


@dataclass(frozen=True, slots=True)
class Limits:
    max_cost: int = 5000
    timeout_s: float = 10.0
    max_response_bytes: int = 4 * 1024 * 1024
    json: JsonLimits = JsonLimits()


class OperationLimits(SchemaExtension):
    def __init__(self, limits: Limits, costs: CostCache) -> None:
        super().__init__()
        self.limits = limits
        self.costs = costs

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        # ValidationCache (before this extension) has validated by now; a refusal here goes
        # where Strawberry looks for validation errors, on every transport alike.
        if not ctx.pre_execution_errors and ctx.graphql_document is not None:
            refusal = self._refusal()
            if refusal is not None:
                ctx.pre_execution_errors = [GraphQLError(refusal.message, original_error=refusal)]
        yield

    def _refusal(self) -> AppError | None:
        ctx = self.execution_context
        variables = ctx.variables or {}
        problem = first_problem(variables, self.limits.json)
        if problem is not None:
            return problem
        assert ctx.graphql_document is not None
        schema = ctx.schema._schema  # graphql-core's
        document = ctx.graphql_document
        cost = self.costs.cost(schema, ctx.query or "", document, ctx.operation_name, variables)
        if cost > self.limits.max_cost:
            return QueryTooCostly(cost, self.limits.max_cost)
        return None

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        if ctx.operation_type is not OperationType.QUERY:
            yield
            return
        try:
            async with asyncio.timeout(self.limits.timeout_s):
                yield
        except TimeoutError as e:
            raise OperationTimeout(self.limits.timeout_s) from e
        result = ctx.result
        data = getattr(result, "data", None)
        if data is not None and json_size_exceeds(data, self.limits.max_response_bytes):
            raise ResponseTooLarge(self.limits.max_response_bytes)


def json_size_exceeds(value: object, limit: int) -> bool:
    """Whether ``value`` encodes to more than ``limit`` bytes of compact JSON (near enough),
    found without encoding it: the walk stops as soon as the limit is passed."""
    size = 0
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            size += len(item) + 2 if item.isascii() else len(json.dumps(item))
        elif isinstance(item, dict):
            size += 1 + len(item) * 2
            for key, child in item.items():
                size += len(key) + 2
                stack.append(child)
        elif isinstance(item, list):
            size += 1 + len(item)
            stack.extend(item)
        elif item is None or isinstance(item, bool):
            size += 5
        else:
            size += len(str(item))
        if size > limit:
            return True
    return False


def directives_rule(max_directives: int) -> type[ValidationRule]:
    """Refuse documents carrying more than ``max_directives`` directives (graphql-armor's
    "directive overloading"), counted when the document is entered so that this is the first
    error, before one per unknown or repeated directive."""

    class MaxDirectivesRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> None:
            counter = _DirectiveCounter()
            visit(node, counter)
            if counter.count > max_directives:
                self.report_error(
                    GraphQLError(
                        f"{counter.count} directives found: the maximum is {max_directives}"
                    )
                )

    return MaxDirectivesRule


class _DirectiveCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_directive(self, *_args: Any) -> None:
        self.count += 1
