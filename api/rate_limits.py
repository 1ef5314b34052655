"""Rate limits at the edge: every HTTP request, every WebSocket handshake, every operation a
socket starts.

HTTP: each request spends the client IP's budget and, with a valid token, its account's; over
either, the whole request is answered 429 with ``Retry-After`` and a GraphQL-shaped body
(``RATE_LIMITED``, ``extensions.retryAfter``). The tighter per-mutation limits (``login``,
``register``...) are spent by their resolvers, so a refused mutation is an error in an
otherwise normal 200 answer. Health probes and ``/metrics`` are never limited.

WebSocket: a handshake over the IP's budget is refused before the socket opens, with HTTP 429
and ``Retry-After`` where the server supports ASGI's denial responses (uvicorn does), else 403.
An operation over the socket's budget gets an ``error`` message for its id (both protocols);
the socket and its other operations go on.
"""

from __future__ import annotations

import json

from graphql import GraphQLFormattedError
from starlette.types import ASGIApp, Receive, Scope, Send

from api.client_ip import TrustedProxies, client_ip, rate_key
from api.settings import Settings
from context.request import Context
from context.state import AppState
from pipeline.ratelimit.base import RateLimiter, Verdict
from services.auth.authenticate import bearer_token
from services.auth.login_throttle import LoginRules, LoginThrottle
from services.errors import AppError, Unauthenticated
from services.rate_limits import RateRules, Rule, Throttle, refused

UNLIMITED_PATHS = ("/healthz", "/readyz", "/metrics")


class ClientLimits:
    """Outermost: names the client for everything below (``scope["state"]``: ``client_ip``,
    and ``client_key``, what per-IP limits count) and spends each WebSocket handshake's budget."""

    def __init__(self, app: ASGIApp, state: AppState, trusted_proxies: list[str]) -> None:
        self.app = app
        self.state = state
        self.trusted = TrustedProxies(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        address = client_ip(scope, self.trusted)
        key = rate_key(address)
        state = scope.setdefault("state", {})
        state["client_ip"], state["client_key"] = address, key
        throttle = self.state.throttle
        if kind == "websocket" and throttle is not None:
            verdict = await throttle.check("ws_connect", key)
            if not verdict.allowed:
                await _refuse_handshake(scope, receive, send, verdict)
                return
        await self.app(scope, receive, send)


class RequestLimits:
    """Innermost, so a refusal still gets CORS headers (a browser can read it) and a request
    id: spends the client IP's and the account's budgets of each HTTP request."""

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        throttle = self.state.throttle
        if scope["type"] != "http" or throttle is None or scope["path"].endswith(UNLIMITED_PATHS):
            await self.app(scope, receive, send)
            return
        verdict = await throttle.check("ip", scope.get("state", {}).get("client_key", "-"))
        account = self._account(scope) if verdict.allowed else None
        if account is not None:
            verdict = await throttle.check("account", account)
        if not verdict.allowed:
            await _refuse_request(send, verdict)
            return
        await self.app(scope, receive, send)

    def _account(self, scope: Scope) -> str | None:
        """The account a validly signed token speaks for (revocation is checked later, by the
        view: a revoked token still spends its account's budget until then)."""
        header = next((v for k, v in scope.get("headers", ()) if k == b"authorization"), None)
        try:
            token = bearer_token(header.decode("latin-1")) if header else None
            if not token:
                return None
            viewer = self.state.policy.verified.get(token)
            user_id = viewer.user_id if viewer else self.state.policy.codec.decode(token).user_id
        except Unauthenticated:
            return None
        return str(user_id)


async def operation_refused(
    context: Context, rule: Rule = "ws_operations"
) -> GraphQLFormattedError | None:
    """The error for an operation over its socket's budget, or None when it may run."""
    throttle = context.app.throttle
    if throttle is None:
        return None
    verdict = await throttle.check(rule, context.request_id)
    return None if verdict.allowed else _formatted(refused(verdict))


def _formatted(error: AppError) -> GraphQLFormattedError:
    return {"message": error.message, "extensions": {"code": error.code, **error.extensions}}


def _refusal(verdict: Verdict) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = json.dumps({"errors": [_formatted(refused(verdict))]}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"retry-after", str(verdict.retry_after_s).encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    return headers, body


async def _refuse_request(send: Send, verdict: Verdict) -> None:
    headers, body = _refusal(verdict)
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _refuse_handshake(scope: Scope, receive: Receive, send: Send, verdict: Verdict) -> None:
    if (await receive())["type"] != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        headers, body = _refusal(verdict)
        await send({"type": "websocket.http.response.start", "status": 429, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403


def build_throttle(settings: Settings, limiter: RateLimiter) -> Throttle:
    rules = RateRules(
        ip=settings.rate_limit_ip,
        account=settings.rate_limit_account,
        login=settings.rate_limit_login,
        register=settings.rate_limit_register,
        request_device_pairing=settings.rate_limit_request_device_pairing,
        poll_device_pairing=settings.rate_limit_poll_device_pairing,
        refresh_token=settings.rate_limit_refresh_token,
        ws_connect=settings.rate_limit_ws_connect,
        ws_operations=settings.rate_limit_ws_operations,
        ws_voice_chunks=settings.rate_limit_ws_voice_chunks,
    )
    return Throttle(limiter, rules)


def build_login_throttle(settings: Settings, limiter: RateLimiter) -> LoginThrottle:
    rules = LoginRules(
        failures_account_ip=settings.login_failures_account_ip,
        failures_ip=settings.login_failures_ip,
        failures_account=settings.login_failures_account,
        known_ip_ttl_s=settings.login_known_ip_days * 24 * 3600,
    )
    return LoginThrottle(limiter, rules)
