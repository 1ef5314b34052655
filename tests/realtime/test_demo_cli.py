"""`holomate demo` shows the main job: the reply's text, audio, visemes and emotions live."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.server import ROOT, LiveServer


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
            "Hi Nova, tell me about Jupiter.",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=server.env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    assert "you  > Hi Nova, tell me about Jupiter." in text
    assert "audio #0:" in text and "/media/users/" in text
    assert "visemes #0:" in text and "emotion:" in text
    assert "ReplyCompleted" in text
    assert "firstAudioMs=" in text
