"""Apps with tight rate limits of a test's choosing, and clients that come from other IPs."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
from redis import Redis
from redis.exceptions import RedisError
from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings

AppFactory = Callable[..., Awaitable[Starlette]]


def redis_url_or_none() -> str | None:
    """The test Redis when it answers (both test passes on this machine), else None."""
    url = os.environ.get("HOLOMATE_TEST_BROADCAST_URL") or "redis://127.0.0.1:6379/0"
    try:
        with Redis.from_url(url, socket_connect_timeout=0.5) as client:
            return url if client.ping() else None
    except (RedisError, OSError):
        return None


@asynccontextmanager
async def app_factory(settings: Settings) -> AsyncIterator[AppFactory]:
    """``await make(rate_limit_ip="3/minute", ...)``: a running app with those settings."""
    async with AsyncExitStack() as stack:

        async def make(**overrides: Any) -> Starlette:
            app = create_app(Settings(**{**_init_values(settings), **overrides}))
            await stack.enter_async_context(app.router.lifespan_context(app))
            return app

        yield make


def _init_values(settings: Settings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.model_fields_set}


def client(app: Starlette, ip: str | None = None) -> httpx.AsyncClient:
    """An HTTP client on ``app``; with ``ip``, it arrives through the proxy at 127.0.0.1."""
    headers = {"x-forwarded-for": ip} if ip else {}
    transport = httpx.ASGITransport(app=app)  # the peer is 127.0.0.1
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)
