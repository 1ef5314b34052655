"""An OTLP/HTTP trace receiver on the loopback interface, as a collector is to the server:
it decodes the protobuf wire format (``ExportTraceServiceRequest``) and keeps every span."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as SpanProto


@dataclass(frozen=True, slots=True)
class Span:
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: int
    attributes: dict[str, Any]
    service: str
    scope: str
    start_ns: int
    end_ns: int

    @classmethod
    def of(cls, span: SpanProto, service: str, scope: str) -> Span:
        return cls(
            name=span.name,
            trace_id=span.trace_id.hex(),
            span_id=span.span_id.hex(),
            parent_id=span.parent_span_id.hex(),
            kind=span.kind,
            attributes={a.key: _value(a.value) for a in span.attributes},
            service=service,
            scope=scope,
            start_ns=span.start_time_unix_nano,
            end_ns=span.end_time_unix_nano,
        )


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind is not None else None


class Receiver:
    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.requests = 0
        self.content_types: set[str] = set()
        self._lock = threading.Lock()

    def receive(self, body: bytes, content_type: str) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        spans = []
        for resource in request.resource_spans:
            attributes = {a.key: _value(a.value) for a in resource.resource.attributes}
            service = str(attributes.get("service.name", ""))
            for scope in resource.scope_spans:
                spans += [Span.of(s, service, scope.scope.name) for s in scope.spans]
        with self._lock:
            self.requests += 1
            self.content_types.add(content_type)
            self.spans += spans

    def wait_for(self, found: Callable[[list[Span]], bool], timeout_s: float = 20) -> list[Span]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                spans = list(self.spans)
            if found(spans):
                return spans
            time.sleep(0.05)
        raise AssertionError(f"spans never arrived; got {sorted({s.name for s in spans})}")

    def settled(self, quiet_s: float = 0.5, timeout_s: float = 10) -> list[Span]:
        """Every span, once none came for ``quiet_s``: a parent ends after its children, so it
        may come in a later batch than they do."""
        deadline = time.monotonic() + timeout_s
        count, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            with self._lock:
                spans = list(self.spans)
            if len(spans) != count:
                count, since = len(spans), time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return spans
            time.sleep(0.05)
        raise AssertionError(f"spans kept coming for {timeout_s} s")


@contextmanager
def otlp_receiver() -> Iterator[tuple[str, Receiver]]:
    """Yields the collector's base URL (what HOLOMATE_OTLP_ENDPOINT takes) and its spans."""
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if self.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path != "/v1/traces":
                self.send_error(404)
                return
            receiver.receive(body, self.headers.get("content-type", ""))
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
