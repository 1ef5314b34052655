"""The spans of a turn (README "Observability"), through OpenTelemetry's API.

Off (no HOLOMATE_OTLP_ENDPOINT) every call here returns a shared no-op at the cost of one
flag test: no span objects, no context switches. ``api.tracing`` turns it on once the
process has a tracer provider. The pipeline stays free of OpenTelemetry: its providers are
wrapped here per reply (``services.traced``), so its tasks' spans are children of the reply's.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext

from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind
from opentelemetry.util.types import AttributeValue

Attributes = Mapping[str, AttributeValue]

_tracer = trace.get_tracer("holomate")  # follows the provider set later (a proxy until then)
_OFF: AbstractContextManager[Span] = nullcontext(INVALID_SPAN)
_enabled = False


def enable(on: bool = True) -> None:
    global _enabled
    _enabled = on


def enabled() -> bool:
    return _enabled


def span(
    name: str, attributes: Attributes | None = None, kind: SpanKind = SpanKind.INTERNAL
) -> AbstractContextManager[Span]:
    """A span current for the block (its children are what the block calls and starts)."""
    if not _enabled:
        return _OFF
    return _tracer.start_as_current_span(name, attributes=attributes, kind=kind)


def start(
    name: str, attributes: Attributes | None = None, start_time_ns: int | None = None
) -> Span:
    """A span the caller ends, never current: for work that spans awaits of someone else's
    (a stream read by the caller's loop), so the caller's own spans do not nest under it."""
    if not _enabled:
        return INVALID_SPAN
    return _tracer.start_span(name, attributes=attributes, start_time=start_time_ns)
