"""Apollo Client 4 (HttpLink + GraphQLWsLink split) logs in and hears a whole reply."""

from __future__ import annotations

from tests.clients.node import last_json, run_node
from tests.clients.replies import assert_whole_reply
from tests.support.server import LiveServer


def test_apollo_client_logs_in_and_receives_a_whole_spoken_reply(server: LiveServer) -> None:
    summary = last_json(run_node("apollo.mjs", server.graphql_url))
    print(f"\nApollo: {len(summary['events'])} events, {len(summary['chunks'])} audio chunks")
    assert_whole_reply(summary, "Hello Mira! What is a star?")
