"""`holomate demo` shows the main job: the reply's text, audio, visemes and emotions live."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realtime.helpers import ok
from tests.support.server import ROOT, LiveServer, live_server


@pytest.mark.parametrize("command", ["demo", "test-streaming"])
def test_demo_prints_the_live_stream(server: LiveServer, command: str) -> None:
    # Either form of the address: the GraphQL endpoint, or just the server.
    url = server.graphql_url if command == "demo" else server.url
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from api.cli import main; raise SystemExit(main())",
            command,
            "--url",
            url,
            "--message",
            "Hi Nova, I love Jupiter. Tell me about it.",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=server.env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    assert "you  > Hi Nova, I love Jupiter. Tell me about it." in text
    assert "audio #0:" in text and "/media/users/" in text
    assert "visemes #0:" in text and "emotion:" in text
    assert "ReplyCompleted" in text
    assert "firstAudioMs=" in text
    # What the person said about themselves is remembered, and the demo shows it.
    assert "Nova remembers:\n  - Ada likes Jupiter (like," in text, text


@pytest.fixture
def forgetful_server(database_url: str, clean_db: None, tmp_path: Path) -> Iterator[LiveServer]:
    """A replay log that keeps one event per conversation: a subscription from the cursor of
    an empty conversation, once anything happened there, cannot be replayed and expires."""
    env = {"HOLOMATE_BROADCAST_URL": "memory://", "HOLOMATE_EVENT_LOG_MAX_LEN": "1"}
    with live_server(database_url, tmp_path / "storage", **env) as running:
        yield running


def test_demo_recovers_from_an_expired_cursor_and_shows_the_whole_reply(
    forgetful_server: LiveServer,
) -> None:
    out = subprocess.run(
        [sys.executable, "-c", "from api.cli import main; raise SystemExit(main())", "demo"]
        + ["--url", forgetful_server.url, "--message", "Hi Nova, tell me about Saturn."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=forgetful_server.env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    assert "CURSOR_EXPIRED" in text, text
    email = re.search(r"user (\S+@example\.com)", text)
    assert email is not None, text
    token = ok(
        forgetful_server,
        'mutation($e: String!) { login(email: $e, password: "demo-password-123") { accessToken } }',
        {"e": email.group(1)},
    )["login"]["accessToken"]
    history = ok(
        forgetful_server,
        "{ conversations(first: 1) { nodes { messages(last: 1) { nodes { status text } } } } }",
        token=token,
    )["conversations"]["nodes"][0]["messages"]["nodes"][0]
    assert history["status"] == "COMPLETE" and history["text"]
    # What the demo printed last for Nova ends with the whole reply as stored.
    printed = text.split("Nova > ")[-1]
    assert printed.startswith(history["text"]), (printed, history["text"])
