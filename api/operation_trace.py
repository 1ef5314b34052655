"""Each GraphQL operation named in logs and, with tracing on, traced as OTel's GraphQL
conventions say: a SERVER span ``{type} {name}`` (``mutation SendMessage``, or the type alone)
with ``graphql.operation.type`` and ``graphql.operation.name``, the parent of what the operation
does, a reply's background work included. A caller's W3C ``traceparent`` header is its parent.

A subscription's span covers its stream but is not made current: the events it delivers belong
to the turns that published them, not to the socket that listens.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextvars import Token
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, StatusCode
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from api import log_fields
from services import tracing

UNKNOWN = "GraphQL Operation"  # the conventions' name when the document did not parse
_tracer = trace.get_tracer("holomate.graphql")
# (type: query, mutation, subscription or "invalid"; seconds; whether the answer has errors)
Observe = Callable[[str, float, bool], None]


class OperationObserver(SchemaExtension):
    def __init__(
        self, user_key: bytes, observe: Observe | None = None, *, execution_context: Any = None
    ) -> None:
        self.user_key = user_key
        self.observe = observe
        self.kind = "invalid"  # until the document parses
        self.span: Span = INVALID_SPAN
        if execution_context is not None:
            self.execution_context = execution_context

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        if tracing.enabled():
            request = getattr(self.execution_context.context, "request", None)
            headers = getattr(request, "headers", None)
            parent = propagate.extract(dict(headers)) if headers is not None else None
            self.span = _tracer.start_span(UNKNOWN, context=parent, kind=SpanKind.SERVER)
        try:
            yield
        finally:
            self._end(time.perf_counter() - started)

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        kind = ec.operation_type
        name = ec.operation_name
        label = f"{kind.value} {name}" if name else kind.value
        self.kind = kind.value
        if self.span.is_recording():
            self.span.update_name(label)
            self.span.set_attribute("graphql.operation.type", kind.value)
            if name:
                self.span.set_attribute("graphql.operation.name", name)
        if kind is OperationType.SUBSCRIPTION:
            yield  # its stream is iterated elsewhere: nothing made current here
            return
        fields = {"operation": label}
        viewer = getattr(ec.context, "viewer", None)
        if viewer is not None:
            fields["user"] = log_fields.user_hash(viewer.user_id, self.user_key)
        token = log_fields.bind(**fields)
        attached: Token[otel_context.Context] | None = None
        if self.span.is_recording():
            attached = otel_context.attach(trace.set_span_in_context(self.span))
        try:
            yield
        finally:
            if attached is not None:
                otel_context.detach(attached)
            log_fields.unbind(token)

    def _end(self, seconds: float) -> None:
        ec = self.execution_context
        result = ec.result
        errors = ec.pre_execution_errors or (result.errors if result is not None else None)
        if self.observe is not None:
            self.observe(self.kind, seconds, bool(errors))
        if self.span.is_recording():
            if errors:
                self.span.set_status(StatusCode.ERROR, errors[0].message)
            self.span.end()
