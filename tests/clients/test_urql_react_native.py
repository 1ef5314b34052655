"""The React Native setup (urql with fetchExchange + a graphql-ws subscriptionExchange) hears a
whole reply: the stack REACT_NATIVE.md documents, run by node against the real server."""

from __future__ import annotations

from tests.clients.node import last_json, run_node
from tests.clients.replies import assert_whole_reply
from tests.support.server import LiveServer


def test_urql_with_graphql_ws_receives_a_whole_spoken_reply(server: LiveServer) -> None:
    summary = last_json(run_node("urql.mjs", server.graphql_url))
    print(f"\nurql: {len(summary['events'])} events, {len(summary['chunks'])} audio chunks")
    assert_whole_reply(summary, "Hello Mira! What is a star?")
