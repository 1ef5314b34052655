"""Strawberry's two WebSocket protocol handlers, with the live-feed hand-off.

Each operation runs as Strawberry runs it (parse, validate, extensions, the resolver's checks),
with a ``LiveOperation`` as its root value. When the resolver leaves a feed there, the stream it
returned ends empty and the handler delivers the feed itself: every event rendered once per
process (``api.live_render``), framed with this operation's id, written to the socket. The
messages on the wire are exactly those Strawberry would send.

The two run methods follow Strawberry 0.341's ``run_operation``/``handle_async_results``;
``tests/realtime/test_live_reply.py`` and ``test_shared_rendering.py`` run both protocols.

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
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage as TransportError,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import ErrorMessage as LegacyError
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.unset import UnsetType
from strawberry.utils.aio import aclosing

from api.eager_send import send_eagerly
from api.middleware import SERVER_SEND
from api.rate_limits import operation_refused
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
from pipeline.broadcast.log_base import LogEntry
from resolvers.live_feed import LiveOperation
from services.auth.revocations import Closer

if TYPE_CHECKING:
    from api.live_render import LiveRenderer

Send = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]
log = logging.getLogger("holomate.ws")
# Where a socket's scope keeps its adapter, so code outside the handlers (ending a session)
# closes it the same way; the view drops it when the socket ends.
ADAPTER = "holomate.ws_adapter"


async def deliver(
    renderer: LiveRenderer,
    operation: LiveOperation,
    context: Context,
    websocket: Any,
    prefix: str,
) -> None:
    """Write the operation's feed until it ends; a failure ends it with one errors payload
    (masked unless it carries a code), as Strawberry reports a failing stream.

    Live events that directly follow are written by the channel's pump itself (``_Direct``);
    this loop writes the rest: the replay, catch-ups after a gap, and anything the direct path
    declined. It calls the server's send itself, not through a helper, for the same reason: it
    runs once per event per subscriber.
    """
    feed = operation.feed
    assert feed is not None
    send = _server_send(websocket)
    key = renderer.key(operation, feed)
    direct = _Direct(renderer, key, feed.channel, prefix, send)
    if feed.direct is not None:
        feed.direct.prepare = lambda entry: renderer.prepare(key, operation, feed, entry)
        feed.direct.deliver = direct.deliver
        feed.direct.group = key  # one rendering serves every socket with this key
    try:
        try:
            async for entry in feed.entries:
                payload = renderer.payload(key, operation, feed, entry)
                if not isinstance(payload, str):
                    payload = await payload
                try:
                    if direct.writing is not None:  # a direct write the client is slow to take
                        await direct.writing
                        direct.writing = None
                    await send({"type": "websocket.send", "text": prefix + payload + "}"})
                except (WebSocketDisconnect, OSError) as e:  # the server says OSError: gone
                    raise WebSocketDisconnected from e
        except WebSocketDisconnected:
            raise
        except Exception as e:  # noqa: BLE001 - reported to the client, logged if unexpected
            text = prefix + renderer.error_payload(feed.api_error(e), context) + "}"
            with suppress(WebSocketDisconnect, OSError):
                await send({"type": "websocket.send", "text": text})
    except asyncio.CancelledError:
        # The client ended the operation: a direct write still waiting is dropped. (Ending
        # otherwise, it goes out before whatever is sent next: a socket's waiting writes
        # resume in the order they started.)
        if direct.writing is not None:
            direct.writing.cancel()
        raise
    finally:
        if feed.direct is not None:
            feed.direct.prepare = feed.direct.deliver = None
        await operation.release()


class _Direct:
    """One socket's direct path: a rendered payload written from inside the pump."""

    __slots__ = ("channel", "key", "prefix", "renderer", "send", "writing")

    def __init__(self, renderer: LiveRenderer, key: int, channel: str, prefix: str, send: Send):
        self.renderer = renderer
        self.key = key
        self.channel = channel
        self.prefix = prefix
        self.send = send
        self.writing: asyncio.Task[None] | None = None  # a write waiting for a slow client

    def deliver(self, entry: LogEntry) -> bool:
        writing = self.writing
        if writing is not None:
            if not writing.done():
                return False  # queued behind it, for the consumer
            self.writing = None
            if writing.cancelled() or writing.exception() is not None:
                return False  # the consumer's own write will meet the same failure
        text = self.renderer.cached(self.key, self.channel, entry.cursor)
        if text is None:
            return False
        message = {"type": "websocket.send", "text": self.prefix + text + "}"}
        try:
            self.writing = send_eagerly(self.send(message))
        except Exception:  # noqa: BLE001 - gone: the consumer's write raises it properly
            return False
        self.renderer.deliveries += 1
        if self.writing is not None:
            self.renderer.writes_waited += 1
        return True


async def deliver_for(handler: Any, live: LiveOperation, prefix: str) -> None:
    """``deliver`` for either protocol's handler (their view, context and socket)."""
    await deliver(handler.view.live_renderer, live, handler.context, handler.websocket, prefix)


def _server_send(websocket: Any) -> Send:
    socket = websocket.ws  # Strawberry's ASGI adapter wraps a Starlette WebSocket
    send: Send = socket.scope.get(SERVER_SEND) or socket.send
    return send


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


def _interned(message: object) -> object:
    payload = message.get("payload") if isinstance(message, dict) else None
    if isinstance(payload, dict) and isinstance(payload.get("query"), str):
        payload["query"] = sys.intern(payload["query"])
    return message


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws (graphql-ws library, Apollo, urql, GraphiQL)."""

    async def handle_message(self, message: Any) -> None:
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
            if (refusal := await operation_refused(self.context)) is not None:
                error = TransportError(id=message["id"], type="error", payload=[refusal])
                await self.send_message(error)
                return
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        live = LiveOperation(operation.query, operation.variables, operation.operation_name)
        try:
            await self._run_live(operation, live)
        finally:
            await live.release()

    async def _run_live(self, operation: Operation[Context, None], live: LiveOperation) -> None:
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=live,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            if live.feed is not None:
                prefix = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
                await deliver_for(self, live, prefix)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except WebSocketDisconnected:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise


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
            if (refusal := await operation_refused(self.context)) is not None:
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
        live = LiveOperation(query, variables, operation_name)
        try:
            # Queries and mutations too (``stream``, not Strawberry's ``subscribe``): one data
            # message, then complete, as subscriptions-transport-ws servers answered them.
            result_source = await self.schema.stream(
                query=query,
                variable_values=variables,
                operation_name=operation_name,
                context_value=self.context,
                root_value=live,
            )
            self.subscriptions[operation_id] = result_source
            is_first_result = True
            async for result in result_source:
                if is_first_result and isinstance(result, PreExecutionError):
                    assert result.errors
                    await self.send_message(
                        {"type": "error", "id": operation_id, "payload": result.errors[0].formatted}
                    )
                    return
                assert isinstance(result, ExecutionResult)  # no @defer/@stream in this schema
                await self.send_data_message(result, operation_id)
                is_first_result = False
            self.subscriptions.pop(operation_id, None)
            if live.feed is not None:
                prefix = '{"type":"data","id":' + json.dumps(operation_id) + ',"payload":'
                await deliver_for(self, live, prefix)
            await self.send_message({"type": "complete", "id": operation_id})
        except WebSocketDisconnected:
            pass
        except asyncio.CancelledError:
            await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)
            await live.release()
