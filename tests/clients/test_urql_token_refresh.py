"""The React Native client of REACT_NATIVE.md (rn_client.mjs) outlives its access token: a stale
token is refused (UNAUTHENTICATED over HTTP, 4403 at connect), an expiring one closes the socket
with 4401; each time the client refreshes, resumes with `after`, and hears every event of two
replies exactly once."""

from __future__ import annotations

import pytest

from tests.clients.node import last_json, run_node
from tests.clients.replies import assert_whole_reply
from tests.support.server import LiveServer

TOKEN_TTL_S = 4


@pytest.fixture
def short_token_server(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> LiveServer:
    """The usual `server` (same database, same broadcast), started with short-lived tokens."""
    monkeypatch.setenv("HOLOMATE_ACCESS_TOKEN_TTL_S", str(TOKEN_TTL_S))  # the server inherits it
    server: LiveServer = request.getfixturevalue("server")
    return server


def test_an_expired_token_is_refreshed_and_the_stream_resumes_without_gaps(
    short_token_server: LiveServer,
) -> None:
    summary = last_json(run_node("urql_refresh.mjs", short_token_server.graphql_url))
    first, second = summary["replies"]
    reconnects = summary["reconnects"]
    print(f"\nurql session: reconnects {reconnects}, {summary['refreshes']} refreshes")
    assert reconnects[0] == {"code": 4403, "refreshed": True}, "stale token refused at connect"
    assert {"code": 4401, "refreshed": True} in reconnects, "expiry closes the open socket"
    assert all(r["refreshed"] for r in reconnects)
    assert summary["refreshes"] == 1 + len(reconnects) + 1, "HTTP, each socket, the final check"
    assert_whole_reply(first, "Hello Mira! What is a star?")
    assert_whole_reply(second, "Tell me about Mars.")
    assert second["cursors"] == summary["secondReplay"], "nothing missed, in order"
    assert summary["refused"] == "BAD_USER_INPUT", "a bad cursor ends listening, no retry loop"
    assert not set(first["cursors"]) & set(second["cursors"]), "no event twice"
