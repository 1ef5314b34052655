"""The React Native app (mobile/) against the real server.

Jest (jest-expo) renders the app's real screens in Node: sign up, create a companion, open the
conversation, send, and the whole streamed reply arrives on screen with its voice and mouth
(mobile/__tests__/). Only native modules are stood in for (jest-expo's mocks, Expo's audio in
mobile/test/nativeAudio.ts); the WebSocket is Node's `ws` and fetch is Node's, so the app's
urql + graphql-ws client talks to this server over real sockets. Metro bundles the app for
Android offline, as `npx expo export` would for a release (Hermes bytecode).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import LiveServer

MOBILE = Path(__file__).parents[2] / "mobile"

BIN = MOBILE / "node_modules" / ".bin"
TOKEN_TTL_S = 6

# One worker runs both: they share the generated types in mobile/src/gql.
pytestmark = [pytest.mark.slow, pytest.mark.one_backend, pytest.mark.xdist_group("mobile")]


@pytest.fixture(scope="module")
def generated_types() -> Iterator[None]:
    """The app's operation types from schema.graphql, as `npm run codegen` makes them."""
    if shutil.which("node") is None or not (BIN / "jest").exists():
        pytest.fail("node and mobile/node_modules are needed: run ./dev setup")
    codegen = subprocess.run(
        [str(BIN / "graphql-codegen"), "--config", "codegen.ts"],
        cwd=MOBILE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert codegen.returncode == 0, codegen.stdout[-2000:] + codegen.stderr[-2000:]
    yield


@pytest.fixture
def short_token_server(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> LiveServer:
    """The usual `server`, its access tokens living TOKEN_TTL_S: every test outlives its first
    token, so the app refreshes and resumes its streams as it would after a phone's sleep."""
    monkeypatch.setenv("HOLOMATE_ACCESS_TOKEN_TTL_S", str(TOKEN_TTL_S))  # the server inherits it
    server: LiveServer = request.getfixturevalue("server")
    return server


def test_the_mobile_app_shows_whole_streamed_replies_and_live_devices(
    short_token_server: LiveServer, generated_types: None
) -> None:
    env = {
        **os.environ,
        "HOLOMATE_TEST_SERVER_URL": short_token_server.graphql_url,
        "HOLOMATE_TEST_TOKEN_TTL_S": str(TOKEN_TTL_S),
        "CI": "1",
    }
    proc = subprocess.run(
        [str(BIN / "jest"), "--ci", "--colors=false"],
        cwd=MOBILE,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    print(proc.stderr[-1500:])
    assert proc.returncode == 0, f"jest failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"


def test_the_mobile_app_bundles_for_android_offline(generated_types: None, tmp_path: Path) -> None:
    env = {**os.environ, "CI": "1", "EXPO_OFFLINE": "1", "EXPO_NO_TELEMETRY": "1"}
    proc = subprocess.run(
        [str(BIN / "expo"), "export", "--platform", "android", "--output-dir", str(tmp_path)],
        cwd=MOBILE,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, (
        f"expo export failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    bundles = list((tmp_path / "_expo" / "static" / "js" / "android").glob("*.hbc"))
    assert len(bundles) == 1, proc.stdout[-2000:]
    assert bundles[0].stat().st_size > 500_000  # the app, React Native and its libraries
