"""Strawberry's two WebSocket protocol handlers, with the live-feed hand-off.

Each operation runs as Strawberry runs it (parse, validate, extensions, the resolver's checks),
with a ``LiveOperation`` as its root value. When the resolver leaves a feed there, the stream it
returned ends empty and the handler delivers the feed itself: every event rendered once per
process (``api.live_render``), framed with this operation's id, written to the socket. The
messages on the wire are exactly those Strawberry would send.

The two run methods follow Strawberry 0.341's ``run_operation``/``handle_async_results``;
``tests/realtime/test_live_reply.py`` and ``test_shared_rendering.py`` run both protocols.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncGenerator, Callable, Coroutine
from contextlib import suppress
from json import JSONDecodeError
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
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
from strawberry.types.execution import PreExecutionError
from strawberry.utils.aio import aclosing

from api.eager_send import send_eagerly
from api.middleware import SERVER_SEND
from api.rate_limits import operation_refused
from pipeline.broadcast.log_base import LogEntry
from resolvers.context import Context
from resolvers.live_feed import LiveOperation

if TYPE_CHECKING:
    from api.live_render import LiveRenderer

Send = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]


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
    """Strawberry's adapter, minus two copies of each message held for a socket's lifetime.

    Its loop keeps the last raw text in a local while it waits for the next message, and each
    subscribe message carries the whole document: on a socket that subscribed once and then
    idles for hours, that is ~2.5 KiB per subscriber (tracemalloc). The text is not kept, and
    the document is interned, so a thousand sockets running the same subscription share it.
    """

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                try:
                    yield _interned(self.view.decode_json(await self.ws.receive_text()))
                except JSONDecodeError as e:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from e
        except KeyError as e:
            raise NonTextMessageReceived from e
        except WebSocketDisconnect:
            pass


def _interned(message: object) -> object:
    payload = message.get("payload") if isinstance(message, dict) else None
    if isinstance(payload, dict) and isinstance(payload.get("query"), str):
        payload["query"] = sys.intern(payload["query"])
    return message


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws (graphql-ws library, Apollo, urql, GraphiQL)."""

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
    """The legacy subscriptions-transport-ws protocol (older Apollo clients, Unity plugins)."""

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
            result_source = await self.schema.subscribe(
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
