"""The React Native app (mobile/) against the real server.

Jest (jest-expo) renders the app's real screens in Node: sign up, create a companion, open the
conversation, send, and the whole streamed reply arrives on screen with its voice and mouth
(mobile/__tests__/). Only Expo's native modules are mocked (jest-expo); the WebSocket is Node's
`ws`, so the app's urql + graphql-ws client talks to this server over a real socket.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.server import LiveServer

MOBILE = Path(__file__).parents[2] / "mobile"

pytestmark = [pytest.mark.slow, pytest.mark.one_backend]


def test_the_mobile_app_shows_a_whole_streamed_reply_with_voice_and_mouth(
    server: LiveServer,
) -> None:
    jest = MOBILE / "node_modules" / ".bin" / "jest"
    if shutil.which("node") is None or not jest.exists():
        pytest.fail("node and mobile/node_modules are needed: run ./dev setup")
    codegen = subprocess.run(
        [str(MOBILE / "node_modules" / ".bin" / "graphql-codegen"), "--config", "codegen.ts"],
        cwd=MOBILE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert codegen.returncode == 0, codegen.stdout[-2000:] + codegen.stderr[-2000:]
    env = {**os.environ, "HOLOMATE_TEST_SERVER_URL": server.graphql_url, "CI": "1"}
    proc = subprocess.run(
        [str(jest), "--ci", "--colors=false"],
        cwd=MOBILE,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    print(proc.stderr[-1500:])
    assert proc.returncode == 0, f"jest failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
