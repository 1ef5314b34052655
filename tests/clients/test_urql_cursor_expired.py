"""The React Native client of REACT_NATIVE.md (rn_client.mjs) recovers from CURSOR_EXPIRED: it
reloads the history from a fresh liveCursor and goes on listening, ending with the whole reply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clients.node import last_json, run_node
from tests.support.server import LiveServer, live_server


@pytest.fixture
def forgetful_server(database_url: str, clean_db: None, tmp_path: Path) -> Iterator[LiveServer]:
    """The SQL replay log keeping one event per conversation: an empty conversation's cursor
    expires as soon as anything is said there."""
    env = {"HOLOMATE_BROADCAST_URL": "memory://", "HOLOMATE_EVENT_LOG_MAX_LEN": "1"}
    with live_server(database_url, tmp_path / "storage", **env) as running:
        yield running


def test_an_expired_cursor_reloads_the_history_and_listening_goes_on(
    forgetful_server: LiveServer,
) -> None:
    summary = last_json(run_node("urql_expired.mjs", forgetful_server.graphql_url))
    assert summary["reloads"] == 1
    roles = [m["role"] for m in summary["history"]]
    assert roles[-2:] == ["USER", "COMPANION"], summary["history"]
    assert summary["stored"]["status"] == "COMPLETE"
    assert summary["completed"] == summary["stored"]["text"] != ""
