"""Every HTTP request counted by route and status code and timed, every WebSocket counted as it
opens and closes: what the error-rate, latency and disconnect-storm alerts read
(deploy/prometheus/rules/holomate.yml).

Outermost, so refusals by the limits below it count too. A socket is not wrapped: its messages
pass untouched (a wrapper per socket would sit on every live event it is sent); only its start
and end are counted. Routes are a fixed set, so a scanner's random paths stay one series.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import Metrics
from api.webhooks import LOCAL_CHECKOUT_PATH

ROUTES = frozenset(
    {"/graphql", "/healthz", "/readyz", "/metrics", "/webhooks/stripe", LOCAL_CHECKOUT_PATH}
)


def route_of(path: str) -> str:
    if path in ROUTES:
        return path
    if path.startswith("/media/"):
        return "/media"
    return "other"


class RequestMetrics:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._socket(scope, receive, send)
        elif scope["type"] == "http":
            await self._request(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.metrics.sockets_opened.inc()
        self.metrics.sockets_open.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self.metrics.sockets_open.dec()
            self.metrics.sockets_closed.inc()

    async def _request(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500  # the app raised before answering: the server answers 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = route_of(scope["path"])
            self.metrics.http_requests.labels(route=route, code=str(status)).inc()
            self.metrics.http_seconds.labels(route=route).observe(time.perf_counter() - started)
