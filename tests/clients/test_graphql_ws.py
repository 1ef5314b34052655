"""The bare graphql-ws client: a whole reply on one socket, then a socket dropped mid-reply and a
new one resuming with `after`, missing nothing and repeating nothing."""

from __future__ import annotations

from datetime import datetime

from tests.clients.node import last_json, run_node
from tests.clients.replies import assert_whole_reply
from tests.support.server import LiveServer


def test_graphql_ws_client_receives_a_reply_and_resumes_after_a_dropped_socket(
    server: LiveServer,
) -> None:
    summary = last_json(run_node("graphql_ws.mjs", server.graphql_url))
    assert_whole_reply(summary["full"], "Hello Mira! What is a star?")

    resume = summary["resume"]
    seen, resumed, replay = resume["seen"], resume["resumed"], resume["replay"]
    print(f"\ngraphql-ws: dropped after {len(seen)} events, resumed {len(resumed)} more")
    assert resume["seenTypes"][0] == "MessagePosted" and resume["seenTypes"][-1] == "AudioChunk"
    assert datetime.fromisoformat(resume["closedAt"]) < datetime.fromisoformat(
        resume["completedAt"]
    ), "the socket closed while the server was still replying"
    assert resume["resumedTypes"][-1] == "ReplyCompleted"
    assert len(set(seen + resumed)) == len(seen) + len(resumed), "no event twice"
    assert seen + resumed == replay, "nothing missed, in order"
    assert "".join(resume["deltas"]) == resume["text"]
