"""What the live path relies on from Strawberry and graphql-core, checked on every upgrade.

The pins allow any strawberry-graphql < 1 and graphql-core < 4. Live rendering takes the
graphql-core schema from ``strawberry.Schema._schema`` (``live/seam.py``, the one attribute
that is not public) and renders an event with graphql-core's public ``execute``, which gives
what ``subscribe`` gives only because Strawberry's subscription fields resolve to their root
value. A release that changes either fails here, by name, before anything else looks odd.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator

import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLSchema, execute, parse
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from live.seam import core_schema, plain_attribute, type_name_of


@strawberry.type
class Greeting:
    text: str
    loud: bool

    @strawberry.field
    def shout(self) -> str:
        return self.text.upper() if self.loud else self.text


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def greetings(self, after: str | None = None) -> AsyncGenerator[Greeting, None]:
        yield Greeting(text="from the stream", loud=False)


SCHEMA = strawberry.Schema(query=Query, subscription=Subscription)


def test_the_graphql_core_schema_is_where_the_seam_takes_it() -> None:
    core = core_schema(SCHEMA)
    assert isinstance(core, GraphQLSchema)
    assert core.subscription_type is not None
    assert "greetings" in core.subscription_type.fields


def test_executing_a_subscription_document_renders_its_root_value_as_the_event() -> None:
    document = parse('subscription { greetings(after: "1-0") { text shout } }')
    event = Greeting(text="hello", loud=True)
    result = execute(core_schema(SCHEMA), document, root_value=event)
    assert not inspect.isawaitable(result)
    assert result.errors is None
    assert result.data == {"greetings": {"text": "hello", "shout": "HELLO"}}


async def test_rendering_an_event_gives_what_subscribe_gives_for_it() -> None:
    query = "subscription { greetings { text shout } }"
    stream = await SCHEMA.subscribe(query)
    assert not hasattr(stream, "errors")
    first = await stream.__anext__()  # type: ignore[union-attr]
    await stream.aclose()  # type: ignore[union-attr]
    rendered = execute(
        core_schema(SCHEMA), parse(query), root_value=Greeting(text="from the stream", loud=False)
    )
    assert not inspect.isawaitable(rendered)
    assert rendered.data == first.data


def test_the_seam_tells_an_object_s_type_and_which_fields_only_read_an_attribute() -> None:
    # live/projection.py projects only fields Strawberry resolves with getattr, by type name.
    greeting = core_schema(SCHEMA).get_type("Greeting")
    assert isinstance(greeting, GraphQLObjectType)
    assert type_name_of(Greeting(text="hi", loud=False)) == "Greeting"
    assert type_name_of("not a Strawberry object") is None
    assert plain_attribute(greeting.fields["text"]) == "text"
    assert plain_attribute(greeting.fields["shout"]) is None  # a resolver of its own


def test_the_seam_says_where_to_look_when_the_attribute_is_gone() -> None:
    class Moved:
        pass

    with pytest.raises(RuntimeError, match="live/seam.py"):
        core_schema(Moved())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("handler", "method"),
    [
        (BaseGraphQLTransportWSHandler, "run_operation"),
        (BaseGraphQLTransportWSHandler, "handle_task_exception"),
        (BaseGraphQLWSHandler, "handle_async_results"),
    ],
)
def test_the_handler_methods_the_outlet_wraps_are_there(handler: type, method: str) -> None:
    # api.ws_handlers opens each operation's outlet in these (and calls Strawberry's own).
    assert inspect.iscoroutinefunction(getattr(handler, method))
