"""Pure ASGI middleware: request ids and a request-body size limit."""

from __future__ import annotations

import json
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import log_fields
from services import errors as codes


def new_request_id() -> str:
    """The id a request or socket is logged under (and masked errors point to)."""
    return uuid.uuid4().hex[:16]


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        token = log_fields.bind(request_id=request_id)  # on every line logged for it
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log_fields.unbind(token)


SERVER_SEND = "holomate.server_send"


class GraphQLSockets:
    """WebSockets to the GraphQL path go straight to the GraphQL app, past the HTTP middleware.

    CORS, body limits and Starlette's routing do nothing for a socket, yet each wrapper stays
    suspended for the socket's lifetime (~3.5 KiB per idle subscriber, measured with
    tracemalloc) and wraps every message it sends. The server's own ``send`` is kept in the scope
    for the live delivery path (``api.ws_handlers``).
    """

    def __init__(self, app: ASGIApp, graphql: ASGIApp, path: str) -> None:
        self.app = app
        self.graphql = graphql
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or _route_path(scope) != self.path:
            await self.app(scope, receive, send)  # the router still has a route for the rest
            return
        request_id = scope.setdefault("state", {})["request_id"] = new_request_id()
        scope[SERVER_SEND] = send
        token = log_fields.bind(request_id=request_id)
        try:
            await self.graphql(scope, receive, send)
        finally:
            log_fields.unbind(token)


def _route_path(scope: Scope) -> str:
    """The path below the app's mount point (behind a proxy prefix, ``root_path``)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] or "/" if root and path.startswith(root) else path


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuses bodies over the limit with a GraphQL error, reading no more than the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_multipart_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_multipart_bytes = max_multipart_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        is_multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
        limit = self.max_multipart_bytes if is_multipart else self.max_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps(
            {
                "errors": [
                    {
                        "message": f"Request body larger than {limit} bytes",
                        "extensions": {"code": codes.PAYLOAD_TOO_LARGE, "limit": limit},
                    }
                ]
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})
