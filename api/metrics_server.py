"""``/metrics`` on an address of its own (HOLOMATE_METRICS_BIND), e.g. a private interface.

Each worker process listens on the same address with SO_REUSEPORT, as uvicorn's workers share
the public port: a scrape reaches one of them (the same as on the public port).
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp

from api.metrics import Metrics, MetricsAccess
from api.security_headers import SecurityHeaders
from api.settings import Settings
from pipeline.broadcast.hub import EventHub


class MetricsServer:
    def __init__(self, bind: str, app: ASGIApp) -> None:
        host, _, port = bind.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"HOLOMATE_METRICS_BIND={bind!r}: use host:port")
        self.host = host.strip("[]")
        self.port = int(port)
        config = uvicorn.Config(app, lifespan="off", access_log=False, log_config=None)
        self._server = uvicorn.Server(config)
        self._sockets: list[socket.socket] = []

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((self.host, self.port))
        sock.listen(64)
        sock.setblocking(False)
        self._sockets = [sock]
        # Started by hand, not with ``serve``: that would take over the process's signal
        # handlers from the main server (and run a second main loop).
        config = self._server.config
        config.load()
        self._server.lifespan = config.lifespan_class(config)
        await self._server.startup(sockets=self._sockets)

    async def stop(self) -> None:
        if self._sockets:
            await self._server.shutdown(sockets=self._sockets)
            self._sockets = []


def metrics_access(settings: Settings) -> MetricsAccess:
    """How the public port answers /metrics (see ``api.metrics``)."""
    token = settings.metrics_token.get_secret_value()
    served = not settings.metrics_bind and (bool(token) or settings.env != "production")
    return MetricsAccess(token=token, served=served)


def metrics_server(
    settings: Settings, metrics: Metrics, hub: Callable[[], EventHub | None]
) -> MetricsServer | None:
    if not settings.metrics_bind:
        return None
    access = MetricsAccess(token=settings.metrics_token.get_secret_value())
    app = Starlette(routes=[Route("/metrics", metrics.endpoint(hub, access))])
    return MetricsServer(settings.metrics_bind, SecurityHeaders(app, hsts=False))
