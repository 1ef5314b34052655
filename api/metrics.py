"""Prometheus metrics: where each turn's time goes, what the live layer holds, how requests,
operations and sockets fare, and whether the database and Redis answer (probed at each scrape).
The alerts and dashboards that read them: deploy/prometheus, deploy/grafana.

One registry per app (tests build many apps); with several workers each serves its own
figures, so scrape every worker or run one per container.

Who may read them (``MetricsAccess``): anyone in development; with HOLOMATE_METRICS_TOKEN only a
scraper sending it as a bearer token (401 otherwise); with HOLOMATE_METRICS_BIND only on that
address (the public port answers 404); in production with neither, nobody (404: the figures
name internals an attacker should not map, and a 404 does not advertise them).
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import partial

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from live.render import LiveRenderer
from pipeline.broadcast.hub import EventHub
from pipeline.process_slots import REFUSALS
from pipeline.stt.base import STTProvider
from pipeline.stt.process_pool import ProcessPoolSTT
from services.errors import NOT_FOUND, UNAUTHENTICATED

STAGES = (
    "stt_ms",
    "llm_first_token_ms",
    "first_delta_ms",
    "first_audio_ms",
    "first_viseme_ms",
    "total_ms",
)
BUCKETS_MS = (25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000)
REPLY_STATUSES = ("complete", "interrupted", "failed")
BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
PROBE_TIMEOUT_S = 2.0
# A check that raises when its dependency is away (the database's SELECT 1...)
Probe = Callable[[], Awaitable[object]]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        counter = partial(Counter, registry=self.registry)
        gauge = partial(Gauge, registry=self.registry)
        histogram = partial(Histogram, registry=self.registry)
        self.turn_stage = histogram(
            "holomate_turn_stage_ms",
            "Milliseconds from a message to each stage of its reply",
            ["stage"],
            buckets=BUCKETS_MS,
        )
        self.replies = counter("holomate_replies", "Replies finished, by outcome", ["status"])
        self.audio_ms = counter("holomate_reply_audio_ms", "Milliseconds of reply audio produced")
        self.subscribers = gauge(
            "holomate_live_subscribers", "Open event subscriptions in this process"
        )
        self.dropped = gauge(
            "holomate_live_dropped_events",
            "Live events dropped for slow clients (they re-read them from the log)",
        )
        # api/request_metrics.py
        self.http_requests = counter(
            "holomate_http_requests", "HTTP requests answered, by route and status code",
            ["route", "code"],
        )  # fmt: skip
        self.http_seconds = histogram(
            "holomate_http_request_seconds", "Seconds to answer an HTTP request, by route",
            ["route"], buckets=BUCKETS_S,
        )  # fmt: skip
        self.sockets_opened = counter("holomate_websockets_opened", "WebSockets opened")
        self.sockets_closed = counter("holomate_websockets_closed", "WebSockets closed")
        self.sockets_open = gauge("holomate_websockets_open", "WebSockets open in this process")
        # api/operation_trace.py
        self.operations = counter(
            "holomate_graphql_operations",
            "GraphQL operations run, by type and outcome (error: the answer carries errors)",
            ["type", "outcome"],
        )
        self.operation_seconds = histogram(
            "holomate_graphql_operation_seconds",
            "Seconds a query or mutation took to run (subscriptions: their set-up)",
            ["type"], buckets=BUCKETS_S,
        )  # fmt: skip
        self.up = gauge(
            "holomate_dependency_up",
            "1 when the dependency answered this scrape's probe within 2 s, else 0",
            ["dependency"],
        )
        self._probes: dict[str, Probe] = {}
        # Known labels start at 0: a rate over a series that first appears at 1 is 0, and an
        # alert on failed replies needs the series before the first failure.
        for status in REPLY_STATUSES:
            self.replies.labels(status=status)
        for stage in STAGES:
            self.turn_stage.labels(stage=stage)

    def watch_dependency(self, name: str, probe: Probe) -> None:
        """Probed at every scrape: Prometheus sees a database or Redis away as it happens."""
        self._probes[name] = probe

    def observe_operation(self, kind: str, seconds: float, failed: bool) -> None:
        self.operations.labels(type=kind, outcome="error" if failed else "ok").inc()
        self.operation_seconds.labels(type=kind).observe(seconds)

    async def _probe(self) -> None:
        async def up(probe: Probe) -> float:
            try:
                await asyncio.wait_for(probe(), PROBE_TIMEOUT_S)
            except Exception:  # noqa: BLE001 - any failure: down
                return 0.0
            return 1.0

        names = list(self._probes)
        results = await asyncio.gather(*(up(self._probes[n]) for n in names))
        for name, result in zip(names, results, strict=True):
            self.up.labels(dependency=name).set(result)

    def watch_live(self, renderer: LiveRenderer) -> None:
        """Live events rendered vs. written: their ratio is how much subscribers share."""
        self.registry.register(_LiveDelivery(renderer))

    def watch_stt(self, stt: Callable[[], STTProvider | None]) -> None:
        """The speech-to-text workers' load, when they are this process's worker pool."""
        self.registry.register(_SttLoad(stt))

    def observe_turn(self, timings: dict[str, float], status: str) -> None:
        for stage in STAGES:
            if stage in timings:
                self.turn_stage.labels(stage=stage).observe(timings[stage])
        self.audio_ms.inc(timings.get("audio_ms", 0))
        self.replies.labels(status=status).inc()

    def endpoint(
        self, hub: Callable[[], EventHub | None], access: MetricsAccess | None = None
    ) -> Callable[[Request], Response]:
        access = access or MetricsAccess()

        async def metrics(request: Request) -> Response:
            refused = access.refusal(request)
            if refused is not None:
                return refused
            await self._probe()
            live = hub()
            if live is not None:
                stats = live.stats()
                self.subscribers.set(stats.subscribers)
                self.dropped.set(stats.dropped_live_events)
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

        return metrics  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class MetricsAccess:
    token: str = ""
    served: bool = True  # False: not on this address (production without a token, or a bind)

    def refusal(self, request: Request) -> Response | None:
        if not self.served:
            return _error(404, NOT_FOUND, "Not found")
        if not self.token:
            return None
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), self.token.encode()
        ):
            return None
        response = _error(401, UNAUTHENTICATED, "Send the metrics token as a bearer token")
        response.headers["www-authenticate"] = 'Bearer realm="metrics"'
        return response


def _error(status: int, code: str, message: str) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status)


class _LiveDelivery:
    """Read at scrape time from the renderer's own counts (no work on the delivery path)."""

    def __init__(self, renderer: LiveRenderer) -> None:
        self.renderer = renderer

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "holomate_live_renders",
            "Live events rendered (once per event per viewer and document)",
            value=self.renderer.renders,
        )
        yield CounterMetricFamily(
            "holomate_live_projected",
            "Live renders projected without the GraphQL executor (plain-value selections)",
            value=self.renderer.projected,
        )
        yield CounterMetricFamily(
            "holomate_live_deliveries",
            "Live events written to subscribers' sockets",
            value=self.renderer.deliveries,
        )
        yield CounterMetricFamily(
            "holomate_live_writes_waited",
            "Live events whose write had to wait for a client that reads slowly "
            "(its next events queue behind it, other subscribers go on)",
            value=self.renderer.writes_waited,
        )


class _SttLoad:
    """Read at scrape time from the pool's own counts; nothing when another engine is used."""

    def __init__(self, stt: Callable[[], STTProvider | None]) -> None:
        self.stt = stt

    def collect(self) -> Iterator[Metric]:
        pool = self.stt()
        if not isinstance(pool, ProcessPoolSTT):
            return
        yield GaugeMetricFamily(
            "holomate_stt_busy_workers",
            "Speech-to-text workers that have taken a message",
            value=pool.running,
        )
        yield GaugeMetricFamily(
            "holomate_stt_waiting",
            "Voice messages waiting for a speech-to-text worker",
            value=pool.waiting,
        )
        refused = CounterMetricFamily(
            "holomate_stt_refused",
            "Voice messages speech-to-text gave no transcript for: the waiting line was full "
            "(RATE_LIMITED), the timeout ran out or the worker died (SERVICE_UNAVAILABLE)",
            labels=["reason"],
        )
        for reason in REFUSALS:
            refused.add_metric([reason], pool.refused[reason])
        yield refused
