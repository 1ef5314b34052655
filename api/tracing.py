"""OpenTelemetry traces exported over OTLP/HTTP when HOLOMATE_OTLP_ENDPOINT is set.

One trace a turn: the GraphQL operation's span (``api.operation_trace``) is the root; the reply,
running in a background task that copied the request's context, continues it
(``services.tracing``); SQLAlchemy and redis-py are instrumented underneath. Unset, nothing is
instrumented, no provider exists, and the SDK, exporter and instrumentations are not even
imported (~0.25 s of start-up). The provider is the process's global one (a process runs one
app; each worker exports its own spans); spans leave in batches (OTEL_BSP_* tune them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry import trace

from api.settings import Settings
from services import tracing

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from sqlalchemy.ext.asyncio import AsyncEngine

TRACES_PATH = "/v1/traces"


def traces_url(endpoint: str) -> str:
    """The collector's base URL (as OTEL_EXPORTER_OTLP_ENDPOINT has it) or its traces URL."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


class Tracing:
    def __init__(self, settings: Settings) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        self.provider: TracerProvider = TracerProvider(
            resource=Resource.create({"service.name": settings.otlp_service_name}),
            sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
        )
        exporter = OTLPSpanExporter(endpoint=traces_url(settings.otlp_endpoint))
        self.provider.add_span_processor(BatchSpanProcessor(exporter))

    def start(self, engine: AsyncEngine) -> None:
        from opentelemetry.instrumentation.redis import RedisInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        trace.set_tracer_provider(self.provider)
        # It declares SQLAlchemy < 2.1 and would skip 2.1 silently; its engine events are
        # unchanged in 2.1, and tests/observability/test_turn_trace.py holds the SQL spans.
        SQLAlchemyInstrumentor().instrument(
            engine=engine.sync_engine, tracer_provider=self.provider, skip_dep_check=True
        )
        RedisInstrumentor().instrument(tracer_provider=self.provider)
        tracing.enable()

    def stop(self) -> None:
        """Export what is left (the batch processor's queue) before the process goes."""
        tracing.enable(False)
        self.provider.shutdown()


def build_tracing(settings: Settings) -> Tracing | None:
    return Tracing(settings) if settings.otlp_endpoint else None
