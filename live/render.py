"""Each live event becomes the JSON ``payload`` of a next/data message once per process.

Subscribers that would receive the same bytes share one rendering: the same viewer (fields may
depend on who asks), the same document and operation, the same values of the variables the
event's selection reads (the root field's own arguments, such as ``after``, only choose where
the stream starts) and the same public URL (audio URLs are signed against it). A subscriber
then adds its operation id and writes, so fan-out cost grows with sockets only by the write.

Rendering one event is graphql-core's public ``execute`` with the event as the root value: a
subscription field's resolver in Strawberry returns its root value, so this is the result
``subscribe`` would give for that event (``tests/realtime/test_strawberry_seam.py`` holds
both to it). The document is one Strawberry has already parsed and validated for the
operation whose stream this is. Where the selection only reads plain values, a projection
compiled once gives the same result without the executor (live/projection.py).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    execute,
    get_operation_ast,
    parse,
    visit,
)
from graphql.language.visitor import SKIP, VisitorAction

from context.request import Context
from context.state import AppState
from live.feed import LiveFeed, LiveOperation
from live.projection import Projection
from pipeline.broadcast.log_base import LogEntry

RenderKey = tuple[Any, ...]
# How errors get their codes (and the unexpected ones masked and logged): the API's.
Classify = Callable[[list[GraphQLError], Context], None]


class LiveRenderer:
    """Rendered payloads by (render key, channel, cursor), newest kept, each re-rendered once
    older than ``max_age_s`` so a replayed audio URL is never near its expiry."""

    def __init__(
        self,
        state: AppState,
        schema: GraphQLSchema,
        encode: Callable[[object], str],
        classify: Classify,
        *,
        size: int = 4096,
        max_age_s: float = 300.0,
        contexts: int = 256,
    ) -> None:
        self._state = state
        self._schema = schema
        self._encode = encode
        self._classify = classify
        self._size = size
        self._max_age_s = max_age_s
        self._payloads: OrderedDict[tuple[int, str, str], tuple[float, str]] = OrderedDict()
        self._pending: dict[tuple[int, str, str], asyncio.Future[str]] = {}  # renders under way
        self._contexts: OrderedDict[int, Context] = OrderedDict()
        self._context_limit = contexts
        self._keys: dict[RenderKey, int] = {}
        self._key_limit = 8 * contexts
        self._numbers = itertools.count()
        self._generation = 0  # bumped by forget()
        self._projection = Projection(schema)
        self.renders = 0  # events rendered (/metrics)
        self.projected = 0  # of which projected without the executor (/metrics)
        self.deliveries = 0  # payloads handed to subscribers (/metrics)
        self.writes_waited = 0  # direct writes that found the client's socket full (/metrics)

    def key(self, operation: LiveOperation, feed: LiveFeed) -> int:
        """A small number standing for everything that shapes the bytes (interned: it is
        hashed once per delivery)."""
        used = event_variables(operation.query, operation.operation_name)
        values = tuple(
            (name, json.dumps(operation.variables.get(name), sort_keys=True)) for name in used
        )
        shape = (
            None if feed.viewer is None else feed.viewer.user_id,
            None if feed.viewer is None else feed.viewer.device_id,  # what its token allows
            feed.base_url,
            operation.query,
            operation.operation_name,
            values,
        )
        number = self._keys.get(shape)
        if number is None:
            if len(self._keys) >= self._key_limit:
                self._keys.clear()  # numbers are never reused: running operations keep theirs
            number = self._keys[shape] = next(self._numbers)
        return number

    def payload(
        self, key: int, operation: LiveOperation, feed: LiveFeed, entry: LogEntry
    ) -> str | Awaitable[str]:
        """The payload text now if it is known, else an awaitable that renders it (once)."""
        self.deliveries += 1
        if not feed.shared:  # one socket's own stream: nothing to share, nothing kept
            return self._render((key, feed.channel, entry.cursor), operation, feed, entry)
        known = self.cached(key, feed.channel, entry.cursor)
        if known is not None:
            return known
        return asyncio.shield(self._rendering(key, operation, feed, entry))

    def cached(self, key: int, channel: str, cursor: str) -> str | None:
        """The payload if it is rendered and fresh (the direct path: no awaiting there)."""
        known = self._payloads.get((key, channel, cursor))
        if known is not None and time.monotonic() - known[0] < self._max_age_s:
            return known[1]
        return None

    def prepare(
        self, key: int, operation: LiveOperation, feed: LiveFeed, entry: LogEntry
    ) -> asyncio.Future[str] | None:
        """None if the payload is ready, else its rendering (started unless under way)."""
        if self.cached(key, feed.channel, entry.cursor) is not None:
            return None
        return self._rendering(key, operation, feed, entry)

    def _rendering(
        self, key: int, operation: LiveOperation, feed: LiveFeed, entry: LogEntry
    ) -> asyncio.Future[str]:
        """One rendering per payload at a time. Its failure is raised to whoever awaits it
        and never logged as unretrieved."""
        slot = (key, feed.channel, entry.cursor)
        pending = self._pending.get(slot)
        if pending is None:
            pending = asyncio.ensure_future(self._render(slot, operation, feed, entry))
            self._pending[slot] = pending
            pending.add_done_callback(lambda done: self._settled(slot, done))
        return pending

    def _settled(self, slot: tuple[int, str, str], done: asyncio.Future[str]) -> None:
        if self._pending.get(slot) is done:
            del self._pending[slot]
        if not done.cancelled():
            done.exception()

    async def _render(
        self,
        slot: tuple[int, str, str],
        operation: LiveOperation,
        feed: LiveFeed,
        entry: LogEntry,
    ) -> str:
        generation = self._generation
        self.renders += 1
        document = _parsed(operation.query)
        event = feed.event_for(entry)
        data = self._projection.data(operation.query, document, operation.operation_name, event)
        if data is not None:
            self.projected += 1
            text = self._encode({"data": data})
        else:
            context = self._context(slot[0], feed)
            context.reset_loaders()  # each event reads fresh rows
            result = execute(
                self._schema,
                document,
                root_value=event,
                context_value=context,
                variable_values=operation.variables,
                operation_name=operation.operation_name,
            )
            if isinstance(result, Awaitable):
                result = await result
            assert isinstance(result, ExecutionResult)
            text = self._encode(self.result_payload(result, context))
        if generation == self._generation and feed.shared:
            self._payloads[slot] = (time.monotonic(), text)
            self._payloads.move_to_end(slot)
            while len(self._payloads) > self._size:
                self._payloads.popitem(last=False)
        return text

    def forget(self, user_id: int | None = None) -> None:
        """Drop every rendered payload: an erased person's messages and name may be in any
        viewer's (shared conversations). Numbers already handed out are never reused."""
        self._payloads.clear()
        self._contexts.clear()
        self._keys.clear()
        self._generation += 1  # renders under way now are not kept

    def result_payload(self, result: ExecutionResult, context: Context) -> dict[str, Any]:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            errors = list(result.errors)
            self._classify(errors, context)
            payload["errors"] = [e.formatted for e in errors]
        return payload

    def error_payload(self, error: Exception, context: Context) -> str:
        """A stream that fails after it started: as Strawberry reports it, data null."""
        errors = [
            error
            if isinstance(error, GraphQLError)
            else GraphQLError(str(error), original_error=error)
        ]
        self._classify(errors, context)
        return self._encode({"data": None, "errors": [e.formatted for e in errors]})

    def _context(self, key: int, feed: LiveFeed) -> Context:
        """One context per render key (its viewer), kept while the key is in use."""
        found = self._contexts.get(key)
        if found is not None:
            self._contexts.move_to_end(key)
            return found
        context = Context(
            app=self._state,
            request=None,
            response=None,
            request_id=f"live-{key}",
            viewer=feed.viewer,
        )
        self._contexts[key] = context
        while len(self._contexts) > self._context_limit:
            self._contexts.popitem(last=False)
        return context


@lru_cache(maxsize=256)
def _parsed(query: str) -> DocumentNode:
    return parse(query)


@lru_cache(maxsize=256)
def event_variables(query: str, operation_name: str | None) -> tuple[str, ...]:
    """Names of the variables an event's rendering can read: all the operation uses except in
    the root field's own arguments."""
    document = _parsed(query)
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return ()
    root_arguments = {
        id(argument)
        for selection in operation.selection_set.selections
        if isinstance(selection, FieldNode)
        for argument in selection.arguments or ()
    }
    collector = _VariableNames(root_arguments)
    for definition in document.definitions:
        if definition is operation or not isinstance(definition, OperationDefinitionNode):
            visit(definition, collector)
    return tuple(sorted(collector.names))


class _VariableNames(Visitor):
    def __init__(self, skipped: set[int]) -> None:
        super().__init__()
        self.skipped = skipped
        self.names: set[str] = set()

    def enter_argument(self, node: ArgumentNode, *_: Any) -> VisitorAction:
        return SKIP if id(node) in self.skipped else None

    def enter_variable_definition(self, node: VariableDefinitionNode, *_: Any) -> VisitorAction:
        return SKIP

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.names.add(node.name.value)
