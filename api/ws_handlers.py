"""Strawberry's two WebSocket protocol handlers, each operation with its live outlet.

Each operation runs as Strawberry runs it (parse, validate, extensions, the resolver's checks,
the messages it sends); the handlers wrap Strawberry's own ``run_operation`` and
``handle_async_results`` to open a ``live.deliver.Outlet`` for the operation first: the frame
prefix of its messages and the server's send. A live subscription (``live.stream``) leaves its
feed there and ends its stream empty; when Strawberry then sends the operation's ``complete``
(``send_message``), the outlet writes the feed first, every event rendered once per process.
The operation's id stays registered until then (``forget_id``), so the client's ``complete``
still ends it. ``tests/realtime/test_live_reply.py`` and ``test_shared_rendering.py`` run both
protocols.

A client that breaks the protocol loses its own socket with a code and a reason: the adapter
refuses frames (size, text, JSON), the handlers messages of the wrong shape (``api.ws_protocol``)
before Strawberry reads them (``tests/api/test_ws_protocol_violations.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncGenerator, Callable, Coroutine, Mapping
from contextlib import suppress
from typing import TYPE_CHECKING, Any, cast

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage as TransportError,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import ErrorMessage as LegacyError
from strawberry.types.unset import UnsetType

from api.middleware import SERVER_SEND
from api.rate_limits import operation_refused
from api.trusted_documents import refusal_for_payload
from api.voice_chunk_ops import budget_for
from api.ws_protocol import (
    BAD_REQUEST,
    FORBIDDEN,
    INIT_TIMED_OUT,
    INIT_TIMEOUT,
    MESSAGE_TOO_BIG,
    NOT_JSON,
    NOT_TEXT,
    TOO_DEEP,
    TOO_MANY_INITS,
    UNAUTHORIZED,
    close_reason,
    legacy_ws_violation,
    transport_ws_violation,
)
from context.request import Context
from live.deliver import Outlet, SocketGone, open_outlet
from live.feed import LiveOperation
from services.auth.revocations import Closer
from services.trusted_documents import TrustedDocuments

if TYPE_CHECKING:
    from strawberry.schema import BaseSchema

Send = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]
log = logging.getLogger("holomate.ws")
# Where a socket's scope keeps its adapter, so code outside the handlers (ending a session)
# closes it the same way; the view drops it when the socket ends.
ADAPTER = "holomate.ws_adapter"


def _outlet(handler: Any, operation: LiveOperation, prefix: str) -> Outlet:
    """Where a live subscription of this operation writes: the server's own send."""
    socket = handler.websocket.ws  # Strawberry's ASGI adapter wraps a Starlette WebSocket
    send: Send = socket.scope.get(SERVER_SEND) or socket.send
    return Outlet(handler.view.live_renderer, operation, handler.context, send, prefix, _gone)


def _gone(error: BaseException) -> bool:
    """A write failed because the client left (the server says OSError, Starlette its own)."""
    return isinstance(error, (WebSocketDisconnect, WebSocketDisconnected, OSError))


class LeanWebSocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's adapter, holding the line on frames: size, text, JSON. And lean.

    A frame over ``HOLOMATE_MAX_WS_FRAME_BYTES`` closes 1009 before it is decoded (the server's
    own ``--ws-max-size`` stops reading it earlier when ``holomate serve`` runs it); a binary,
    non-JSON or too deeply nested frame closes 4400, on either protocol. Each closes that
    socket alone, logged in one line.

    Strawberry's loop kept the last raw text in a local while it waited for the next message,
    and each subscribe message carries the whole document: on a socket that subscribed once
    and then idles for hours, that is ~2.5 KiB per subscriber (tracemalloc). No text is kept,
    and the document is interned, so a thousand sockets running the same subscription share it.
    """

    # The legacy protocol says why in a ``connection_error`` message before closing, as
    # subscriptions-transport-ws servers do: its clients report that, not the close reason.
    says_why = False

    def __init__(self, view: Any, request: WebSocket, response: WebSocket) -> None:
        super().__init__(view, request, response)
        request.scope[ADAPTER] = self

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        # ignore_parsing_errors (the legacy handler's) is not honoured: a bad frame closes 4400.
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                yield _interned(await self._receive_json())
        except _SocketEnded:
            pass

    async def _receive_json(self) -> object:
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise _SocketEnded
        text = message.get("text")
        limit: int = self.view.max_ws_frame_bytes  # type: ignore[attr-defined]  # HoloGraphQL's
        if _too_big(text if text is not None else message.get("bytes"), limit):
            await self.refuse(MESSAGE_TOO_BIG, f"Message too big (limit {limit} bytes)")
            raise _SocketEnded
        if text is None:
            await self.refuse(BAD_REQUEST, NOT_TEXT)
            raise _SocketEnded
        try:
            return self.view.decode_json(text)
        except RecursionError:
            await self.refuse(BAD_REQUEST, TOO_DEEP)
        except ValueError:  # JSONDecodeError, or an integer past Python's 4300 digits
            await self.refuse(BAD_REQUEST, NOT_JSON)
        raise _SocketEnded

    async def refuse(self, code: int, reason: str, payload: object = None) -> None:
        """Close this socket saying why: a protocol violation, a refused connection_init (its
        error as ``payload``), an ended session. Closed already, it stays as it was."""
        if self.says_why and self.ws.application_state != WebSocketState.DISCONNECTED:
            message = {"type": "connection_error", "payload": payload or {"message": reason}}
            with suppress(WebSocketDisconnected):
                await self.send_json(message)
        await self.close(code, reason)

    async def send_json(self, message: Mapping[str, object]) -> None:
        if self.ws.application_state == WebSocketState.DISCONNECTED:
            raise WebSocketDisconnected  # closed by this side (a refusal, a timeout)
        await super().send_json(message)

    async def close(self, code: int, reason: str) -> None:
        """Every close this side decides (Strawberry's too): one log line, no traceback."""
        if self.ws.application_state == WebSocketState.DISCONNECTED:
            return  # already closed: a timeout and a refusal can race
        state = self.ws.scope.get("state", {})
        log.info("websocket %s closed %d: %s", state.get("request_id", "-"), code, reason)
        with suppress(WebSocketDisconnect, OSError):
            await self.ws.close(code=code, reason=close_reason(reason))


class _SocketEnded(Exception):
    """The client left, or this side closed the socket: no more messages."""


def _too_big(data: str | bytes | None, limit: int) -> bool:
    """Over ``limit`` bytes on the wire; text is encoded only when its length cannot tell."""
    if data is None:
        return False
    if len(data) > limit:
        return True
    if isinstance(data, bytes) or len(data) * 4 <= limit:
        return False
    return len(data.encode("utf-8", "surrogatepass")) > limit


def _lean(websocket: object) -> LeanWebSocketAdapter:
    return cast(LeanWebSocketAdapter, websocket)  # the view's websocket_adapter_class


def closer_of(websocket: WebSocket) -> Closer:
    """How code below the API (a resolver) closes ``websocket``: through its adapter, once the
    socket is open; nothing once the view has let the socket go."""

    async def close(code: int, reason: str) -> None:
        adapter = websocket.scope.get(ADAPTER)
        if adapter is not None:
            await cast(LeanWebSocketAdapter, adapter).refuse(code, reason)

    return close


def _documents(handler: Any) -> TrustedDocuments:
    return cast("TrustedDocuments", handler.view.documents)  # HoloGraphQL's


def _is_operation(message: Any, kind: str) -> bool:
    """A well-formed subscribe/start frame, whose document may come by hash."""
    return (
        isinstance(message, dict)
        and message.get("type") == kind
        and isinstance(message.get("id"), str)
        and isinstance(message.get("payload"), dict)
    )


def _interned(message: object) -> object:
    payload = message.get("payload") if isinstance(message, dict) else None
    if isinstance(payload, dict) and isinstance(payload.get("query"), str):
        payload["query"] = sys.intern(payload["query"])
    return message


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws (graphql-ws library, Apollo, urql, GraphiQL)."""

    async def handle_message(self, message: Any) -> None:
        if self.connection_acknowledged and _is_operation(message, "subscribe"):
            refusal = await refusal_for_payload(_documents(self), message.get("payload"))
            if refusal is not None:  # this operation alone; the socket goes on
                await self.send_message(
                    TransportError(id=message["id"], type="error", payload=[refusal])
                )
                return
        if (reason := transport_ws_violation(message)) is not None:
            await self.handle_invalid_message(reason)
            return
        await super().handle_message(message)

    async def handle_invalid_message(self, error_message: str) -> None:
        await _lean(self.websocket).refuse(BAD_REQUEST, error_message)

    async def handle_connection_init(self, message: Any) -> None:
        # The protocol allows a null payload (Strawberry closed 4400): no connection params.
        if message.get("payload", {}) is None:
            message = {"type": "connection_init"}
        await super().handle_connection_init(message)

    async def handle_subscribe(self, message: Any) -> None:
        # Over the socket's operation budget: an error for this id alone; the socket goes on.
        if self.connection_acknowledged and message["id"] not in self.operations:
            budget = budget_for(message.get("payload"))
            if (refusal := await operation_refused(self.context, budget)) is not None:
                error = TransportError(id=message["id"], type="error", payload=[refusal])
                await self.send_message(error)
                return
        await super().handle_subscribe(message)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outlets: dict[str, tuple[Operation[Context, None], Outlet]] = {}

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        live = LiveOperation.of(operation.query, operation.variables, operation.operation_name)
        prefix = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
        outlet = _outlet(self, live, prefix)
        self.outlets[operation.id] = (operation, outlet)
        open_outlet(outlet)  # this task's own context: this operation's
        try:
            await super().run_operation(operation)
        finally:
            if self.outlets.get(operation.id, (None, None))[1] is outlet:
                del self.outlets[operation.id]
            await outlet.release()

    def forget_id(self, id: str) -> None:
        held = self.outlets.get(id)
        if held is not None and held[1].pending:
            return  # its feed is written first (send_message); the client may still end it
        super().forget_id(id)

    async def send_message(self, message: Any) -> None:
        if message.get("type") == "complete":
            held = self.outlets.get(message.get("id"))
            if held is not None and held[1].pending:
                operation, outlet = held
                try:
                    await outlet.run()
                finally:
                    if self.operations.get(operation.id) is operation:
                        del self.operations[operation.id]  # the forget_id put off
        await super().send_message(message)

    async def handle_task_exception(self, error: Exception) -> None:
        if isinstance(error, (SocketGone, WebSocketDisconnected)):
            return  # the client left: nothing to report, nobody to tell
        await super().handle_task_exception(error)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """The legacy subscriptions-transport-ws protocol (older Apollo clients, Unity plugins).

    Held to the rules of the newer protocol, which Strawberry's handler skips: a malformed
    message closes 4400, anything but ``connection_init`` first closes 4401, a second one 4429,
    a refused one 4403, and a socket with no ``connection_init`` within the view's wait closes
    4408. Each close is preceded by a ``connection_error`` saying why (what these clients read).
    Queries and mutations run too, as subscriptions-transport-ws servers ran them (Strawberry
    answered them with a masked error).
    """

    connection_init_received = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = cast("BaseSchema", _AnyOperation(self.schema))
        self.outlets: dict[str, Outlet] = {}

    async def handle(self) -> None:
        _lean(self.websocket).says_why = True
        timeout = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            timeout.cancel()
            with suppress(asyncio.CancelledError):
                await timeout

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.connection_init_received:
            await _lean(self.websocket).refuse(INIT_TIMEOUT, INIT_TIMED_OUT)

    async def handle_message(self, message: Any) -> None:
        socket = _lean(self.websocket)
        if self.connection_acknowledged and _is_operation(message, "start"):
            refusal = await refusal_for_payload(_documents(self), message.get("payload"))
            if refusal is not None:  # this operation alone; the socket goes on
                await self.send_message(
                    LegacyError(type="error", id=message["id"], payload=refusal)
                )
                return
        if (reason := legacy_ws_violation(message)) is not None:
            await socket.refuse(BAD_REQUEST, reason)
            return
        if message["type"] == "connection_init":
            if self.connection_init_received:
                await socket.refuse(TOO_MANY_INITS, "Too many initialisation requests")
                return
            self.connection_init_received = True
        elif not self.connection_init_received and message["type"] != "connection_terminate":
            await socket.refuse(UNAUTHORIZED, "Unauthorized")
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: Any) -> None:
        """Strawberry's, but a refused token closes 4403 as on the newer protocol (Strawberry
        closed 1011, a server failure), after the connection_error carrying its code."""
        self.context.connection_params = message.get("payload")  # checked: an object or null
        try:
            ack = await self.view.on_ws_connect(self.context)
        except ConnectionRejectionError as e:
            await _lean(self.websocket).refuse(FORBIDDEN, "Forbidden", e.payload)
            return
        if isinstance(ack, UnsetType) or ack is None:
            await self.send_message({"type": "connection_ack"})
        else:
            await self.send_message({"type": "connection_ack", "payload": ack})
        self.connection_acknowledged = True
        if self.keep_alive:
            self.keep_alive_task = asyncio.create_task(self.handle_keep_alive())

    async def handle_start(self, message: Any) -> None:
        # Over the socket's operation budget: an error for this id alone; the socket goes on.
        if self.connection_acknowledged:
            budget = budget_for(message.get("payload"))
            if (refusal := await operation_refused(self.context, budget)) is not None:
                error = LegacyError(type="error", id=message["id"], payload=refusal)
                await self.send_message(error)
                return
        await super().handle_start(message)

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        live = LiveOperation.of(query, variables, operation_name)
        prefix = '{"type":"data","id":' + json.dumps(operation_id) + ',"payload":'
        outlet = _outlet(self, live, prefix)
        self.outlets[operation_id] = outlet
        open_outlet(outlet)  # this task's own context: this operation's
        try:
            await super().handle_async_results(operation_id, query, operation_name, variables)
        except (SocketGone, WebSocketDisconnected):
            pass  # the client left
        finally:
            if self.outlets.get(operation_id) is outlet:
                del self.outlets[operation_id]
            await outlet.release()

    async def send_message(self, message: Any) -> None:
        if message.get("type") == "complete":
            outlet = self.outlets.get(message.get("id"))
            if outlet is not None and outlet.pending:
                await outlet.run()  # the feed, then complete (or on stop: complete alone)
        await super().send_message(message)


class _AnyOperation:
    """The schema as the legacy handler sees it: its ``subscribe`` is ``stream``, which runs
    queries and mutations too (one data message, then complete), as
    subscriptions-transport-ws servers answered them."""

    def __init__(self, schema: BaseSchema) -> None:
        self._schema = schema

    def __getattr__(self, name: str) -> Any:
        return getattr(self._schema, name)

    async def subscribe(  # noqa: PLR0917 - the signature of BaseSchema.subscribe
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> Any:
        return await self._schema.stream(
            query,
            variable_values=variable_values,
            context_value=context_value,
            root_value=root_value,
            operation_name=operation_name,
            operation_extensions=operation_extensions,
        )
