"""The web app in a real browser against the real server: sign up, create a companion, talk.

Debian's chromium runs the built Next.js app (web/, see web/e2e/run.mjs); the server is a real
uvicorn process whose CORS and WebSocket origins admit the app's port. A failure leaves a
screenshot in the test's tmp dir and prints its path.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clients.web import WEB, build_web_app, next_server, node_env
from tests.conftest import broadcast_env
from tests.support.server import LiveServer, free_port, live_server

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def web_build() -> float:
    return build_web_app()


@pytest.fixture
def web_port() -> int:
    return free_port()


@pytest.fixture
def web_server(
    database_url: str, clean_db: None, tmp_path: Path, web_port: int
) -> Iterator[LiveServer]:
    """The API server, admitting http://127.0.0.1:<web_port> (CORS and WebSocket Origin)."""
    origins = json.dumps([f"http://127.0.0.1:{web_port}", f"http://localhost:{web_port}"])
    with live_server(
        database_url, tmp_path / "storage", HOLOMATE_CORS_ORIGINS=origins, **broadcast_env()
    ) as running:
        yield running


def has_mutation(server: LiveServer, name: str) -> bool:
    body = httpx.post(
        server.graphql_url,
        json={"query": "{ __schema { mutationType { fields { name } } } }"},
        timeout=10,
    ).json()
    return any(f["name"] == name for f in body["data"]["__schema"]["mutationType"]["fields"])


def request_pairing(server: LiveServer) -> dict[str, Any]:
    """What a hologram device does first: ask for a code to show its owner."""
    body = httpx.post(
        server.graphql_url,
        json={
            "query": 'mutation { requestDevicePairing(model: "HM-1", serial: "SN-WEB-1", '
            'capabilities: ["audio", "hologram"]) { deviceCode userCode } }'
        },
        timeout=10,
    ).json()
    assert "errors" not in body, body
    pairing: dict[str, Any] = body["data"]["requestDevicePairing"]
    return pairing


def test_a_person_signs_up_creates_a_companion_and_hears_it_reply_in_the_browser(
    web_build: float, web_server: LiveServer, web_port: int, tmp_path: Path
) -> None:
    if not CHROMIUM.exists() or shutil.which("node") is None:
        pytest.fail("chromium and node are needed: run ./dev setup")
    artifacts = tmp_path / "e2e"
    env = node_env(ARTIFACTS=str(artifacts), CHROMIUM=str(CHROMIUM))
    if has_mutation(web_server, "pairDevice"):
        env["DEVICE_USER_CODE"] = request_pairing(web_server)["userCode"]
        env["DEVICE_NAME"] = "Living room"
    with next_server(web_port, web_server.graphql_url, tmp_path / "next.log") as web_url:
        env["WEB_URL"] = web_url
        proc = subprocess.run(
            ["node", "e2e/run.mjs"], cwd=WEB, env=env, capture_output=True, text=True, timeout=240
        )
    if proc.returncode != 0:
        print(f"\nweb e2e screenshot: {artifacts / 'failure.png'}")
    assert proc.returncode == 0, f"web e2e failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    result = json.loads(proc.stdout.splitlines()[-1])
    print(f"\nweb build {web_build:.1f}s; e2e: {json.dumps(result)}")
    assert result["ok"] is True
    assert result["streamedSnapshots"] >= 2  # the reply grew on screen before it completed
    assert result["mouthShapes"] >= 4  # the face's mouth moved with the visemes
    if "DEVICE_USER_CODE" in env:
        assert result["devices"] == 1
