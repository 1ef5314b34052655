"""Strawberry's ASGI view, with our context, auth, and GraphQL-over-HTTP status codes."""

from __future__ import annotations

import json
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from api.errors import classify_in_place
from api.middleware import new_request_id
from api.request_json import JsonLimits, loads
from api.trusted_documents import swap_in_http
from api.ws_handlers import (
    ADAPTER,
    LeanWebSocketAdapter,
    LegacyWSHandler,
    TransportWSHandler,
    closer_of,
)
from context.request import Context
from context.state import AppState
from live.render import LiveRenderer
from live.seam import core_schema
from services import errors as codes
from services.auth.authenticate import authenticate, bearer_token
from services.errors import AppError, ServiceUnavailable, Unauthenticated
from services.trusted_documents import TrustedDocuments
from store.db import connection_lost

GRAPHQL_RESPONSE = "application/graphql-response+json"
# Where a socket keeps what to undo when it ends (its entry among the sessions' live sockets).
SOCKET_CLEANUP = "holomate.socket_cleanup"


def wants_graphql_response(accept: str) -> bool:
    """True when the client prefers the GraphQL-over-HTTP media type to plain JSON."""
    best: tuple[float, str] | None = None
    for part in accept.split(","):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if media in (GRAPHQL_RESPONSE, "application/json") and (best is None or q > best[0]):
            best = (q, media)
    return best is not None and best[1] == GRAPHQL_RESPONSE


def error_body(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


class RequestRefused(HTTPException):
    """A request refused before it runs, with its own code (not the default BAD_REQUEST)."""

    def __init__(self, error: AppError) -> None:
        super().__init__(400, error.message)
        self.error = error


class HoloGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    websocket_adapter_class = LeanWebSocketAdapter

    def __init__(
        self,
        state: AppState,
        *,
        max_ws_frame_bytes: int,
        documents: TrustedDocuments,
        json_limits: JsonLimits | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.state = state
        self.documents = documents  # which documents run, by hash or in full
        self.json_limits = json_limits or JsonLimits()
        self.max_ws_frame_bytes = max_ws_frame_bytes  # LeanWebSocketAdapter closes 1009 past it
        # One per app: rendered events carry this app's signed URLs and viewers.
        self.live_renderer = LiveRenderer(
            state,
            core_schema(self.schema),  # type: ignore[arg-type]  # a strawberry.Schema
            self.encode_json,
            classify_in_place,
            max_age_s=state.media_url_ttl_s / 4,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            try:
                await super().__call__(scope, receive, send)
            finally:
                for forget in scope.pop(SOCKET_CLEANUP, ()):
                    forget()
                scope.pop(ADAPTER, None)  # it refers back to the scope
            return
        request = Request(scope, receive=receive)
        graphql_media = wants_graphql_response(request.headers.get("accept", ""))
        try:
            response = await self.run(request)
        except RequestRefused as e:
            response = JSONResponse(
                error_body(e.reason, e.error.code, **e.error.extensions),
                status_code=e.status_code,
                media_type=GRAPHQL_RESPONSE if graphql_media else "application/json",
            )
        except HTTPException as e:
            code = codes.BAD_REQUEST if e.status_code != 405 else "METHOD_NOT_ALLOWED"
            response = JSONResponse(
                error_body(e.reason, code),
                status_code=e.status_code,
                media_type=GRAPHQL_RESPONSE if graphql_media else "application/json",
            )
        else:
            response = self._shape(request, response, graphql_media)
        await response(scope, receive, send)

    def _shape(self, request: Request, response: Response, graphql_media: bool) -> Response:
        if not graphql_media or response.media_type != "application/json":
            return response
        # application/graphql-response+json: a request that never executed is a 4xx.
        response.headers["content-type"] = GRAPHQL_RESPONSE + "; charset=utf-8"
        if getattr(request.state, "graphql_not_executed", False) and response.status_code == 200:
            response.status_code = 400
        return response

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:
        data = await super().process_result(request, result)
        if result.data is None and result.errors and isinstance(request, Request):
            # Parse/validation failures never executed: the spec says no "data" key then.
            request.state.graphql_not_executed = True
            data.pop("data", None)
        return data

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        request_id = request.scope.get("state", {}).get("request_id") or new_request_id()
        context = Context(app=self.state, request=request, response=response, request_id=request_id)
        if isinstance(request, WebSocket):
            context.closer = closer_of(request)
        if isinstance(request, Request):
            try:
                token = bearer_token(request.headers.get("authorization"))
                if token:
                    await self._authenticate(context, token)
            except AppError as e:
                context.auth_error = e
            except Exception as e:
                if not connection_lost(e):
                    raise
                context.auth_error = ServiceUnavailable()  # database away: retryable
        return context

    async def _authenticate(self, context: Context, token: str) -> None:
        verified = self.state.policy.verified
        viewer = verified.get(token)
        if viewer is not None:
            context.viewer = viewer
            return
        policy = self.state.policy
        async with self.state.sessionmaker() as session:
            context.viewer, user = await authenticate(
                session, policy.codec, policy.revocations, token
            )
        verified.put(token, context.viewer)
        if user is not None:  # fresh from the database: `me` needs no second query
            context.loaders.user_by_id.prime(user.id, user)

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        raw = params.get("authorization") or params.get("Authorization") or params.get("token")
        if raw is None:
            return None  # anonymous socket: operations that need a viewer answer UNAUTHENTICATED
        try:
            if not isinstance(raw, str):
                raise Unauthenticated("Token must be a string", reason="TOKEN_INVALID")
            token = bearer_token(raw) if " " in raw.strip() else raw.strip()
            revocations = self.state.policy.revocations
            ended = revocations.ended
            if token:
                await self._authenticate(context, token)
                self._track_socket(context)
                if revocations.ended != ended:  # sessions ended while we checked: this one?
                    await self._authenticate(context, token)
        except AppError as e:
            raise ConnectionRejectionError(
                {"message": e.message, "code": e.code, **e.extensions}
            ) from e
        return {"viewer": None if context.viewer is None else str(context.viewer.user_id)}

    def _track_socket(self, context: Context) -> None:
        """Ending the socket's session (logout, theft, unpairing...) closes it, anywhere.

        Through the adapter (``context.closer``), as the protocol handlers close it: one log
        line, a connection_error first on the legacy protocol, and nothing to do if the protocol
        closed it already."""
        assert context.viewer is not None and context.closer is not None
        socket = context.request
        assert isinstance(socket, WebSocket)
        forget = self.state.policy.revocations.track(context.viewer, context.closer)
        socket.scope.setdefault(SOCKET_CLEANUP, []).append(forget)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        try:
            await swap_in_http(self.documents, data)  # a hash becomes its document
        except AppError as e:
            raise RequestRefused(e) from e
        return data

    def parse_json(self, data: str | bytes) -> Any:
        """An HTTP body (or GET ``variables``): bounded, valid Unicode, or refused with a code."""
        try:
            return loads(data, self.json_limits)
        except AppError as e:
            raise RequestRefused(e) from e

    def encode_json(self, data: object) -> str:
        return json.dumps(data, separators=(",", ":"))
