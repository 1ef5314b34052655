"""The web app in a real browser against the real server.

Debian's chromium runs the built Next.js app (web/, scripts in web/e2e/); the server is a real
uvicorn process whose CORS and WebSocket origins admit the app's port. A failure leaves a
screenshot in the test's tmp dir and prints its path.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from hashlib import sha256
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.trusted_documents import load_manifests
from tests.clients.web import MANIFEST, WEB, current_build, next_server, node_env
from tests.conftest import broadcast_env
from tests.support.server import LiveServer, free_port, live_server
from tests.support.voice import QUESTION, spoken_wav

CHROMIUM = Path("/usr/bin/chromium")
SHORT_TOKEN_TTL_S = 8
OPERATION = re.compile(r"\b(?:query|mutation|subscription)\s+([A-Z]\w*)")
HAS_MUTATIONS = "{ __schema { mutationType { fields { name } } } }"
REQUEST_PAIRING = (
    'mutation { requestDevicePairing(model: "HM-1", serial: "SN-WEB-1", '
    'capabilities: ["audio", "hologram"]) { deviceCode userCode } }'
)
# What the hologram device the tests play sends (here and in e2e/run.mjs): its own manifest,
# beside the web app's, as a device maker's build would register it.
DEVICE_DOCUMENTS = (
    HAS_MUTATIONS,
    REQUEST_PAIRING,
    "mutation($c: String!) { pollDevicePairing(deviceCode: $c) { status deviceToken } }",
    "subscription { hologramEvents { __typename } }",
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("web"), pytest.mark.one_backend]


@pytest.fixture(scope="session")
def web_build() -> Iterator[float]:
    if not CHROMIUM.exists() or shutil.which("node") is None:
        pytest.fail("chromium and node are needed: run ./dev setup")
    with current_build() as seconds:
        yield seconds


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spoken question, played to chromium as its microphone (48 kHz, silence after)."""
    wav = tmp_path_factory.mktemp("speech") / "speech.wav"
    return spoken_wav(wav, QUESTION, (0, 1.5), rate=48000)


@pytest.fixture(scope="session")
def handsfree_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A question with a pause around it (48 kHz): chromium's fake microphone loops it, so it
    is said again a few seconds into the reply it started (11 s later: the reply has started
    playing even on a slow run; speech that begins before the reply plays and goes on over it
    interrupts it at once, with nothing heard)."""
    wav = tmp_path_factory.mktemp("handsfree") / "handsfree.wav"
    return spoken_wav(wav, QUESTION, (1, 11), rate=48000)


@contextmanager
def web_stack(
    database_url: str, tmp_path: Path, **server_env: str
) -> Iterator[tuple[LiveServer, str]]:
    """The API server admitting the web app's origin, and `next start` pointed at it."""
    port = free_port()
    origins = json.dumps([f"http://127.0.0.1:{port}", f"http://localhost:{port}"])
    device = tmp_path / "device-documents.json"
    device.write_text(json.dumps({sha256(d.encode()).hexdigest(): d for d in DEVICE_DOCUMENTS}))
    env = {
        "HOLOMATE_CORS_ORIGINS": origins,
        # As in production: only the app's documents (and the device's) run, sent by hash.
        "HOLOMATE_DOCUMENTS": "trusted",
        "HOLOMATE_TRUSTED_DOCUMENTS": f"{MANIFEST},{device}",
        # The offline checkout grants the plan, then sends the browser back to the app.
        "HOLOMATE_BILLING_RETURN_URL": f"http://127.0.0.1:{port}/billing",
        **broadcast_env(),
        **server_env,
    }
    with (
        live_server(database_url, tmp_path / "storage", **env) as server,
        next_server(port, server.graphql_url, tmp_path / "next.log") as web_url,
    ):
        yield server, web_url


def run_e2e(script: str, tmp_path: Path, **env: str) -> dict[str, Any]:
    artifacts = tmp_path / "e2e"
    proc = subprocess.run(
        ["node", f"e2e/{script}"],
        cwd=WEB,
        env=node_env(ARTIFACTS=str(artifacts), CHROMIUM=str(CHROMIUM), **env),
        capture_output=True,
        text=True,
        timeout=240,
    )
    if proc.returncode != 0:
        print(f"\n{script} screenshot: {artifacts / 'failure.png'}")
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    print(f"\n{script}: {json.dumps(result)}")
    assert result["ok"] is True
    return result


def test_the_web_builds_manifest_lists_every_operation_the_app_sends(web_build: float) -> None:
    """Each build emits it (codegen): an operation missing there would be refused in trusted
    mode; the server checks every entry's hash when it loads it."""
    listed = {
        m[1] for text in load_manifests([MANIFEST]).values() for m in OPERATION.finditer(text)
    }
    sources = [p for p in (WEB / "src").rglob("*.ts*") if "gql" not in p.parts]
    sent = {m[1] for path in sources for m in OPERATION.finditer(path.read_text())}
    assert len(sent) >= 30 and sent <= listed, sorted(sent - listed)


def has_mutation(server: LiveServer, name: str) -> bool:
    body = httpx.post(
        server.graphql_url,
        json={"query": HAS_MUTATIONS},
        timeout=10,
    ).json()
    return any(f["name"] == name for f in body["data"]["__schema"]["mutationType"]["fields"])


def request_pairing(server: LiveServer) -> dict[str, Any]:
    """What a hologram device does first: ask for a code to show its owner."""
    body = httpx.post(
        server.graphql_url,
        json={"query": REQUEST_PAIRING},
        timeout=10,
    ).json()
    assert "errors" not in body, body
    pairing: dict[str, Any] = body["data"]["requestDevicePairing"]
    return pairing


def test_a_person_talks_to_a_new_companion_by_text_and_voice_and_pairs_a_hologram(
    web_build: float, database_url: str, clean_db: None, tmp_path: Path, speech_wav: Path
) -> None:
    with web_stack(database_url, tmp_path) as (server, web_url):
        env = {"WEB_URL": web_url, "GRAPHQL_URL": server.graphql_url, "VOICE_WAV": str(speech_wav)}
        if has_mutation(server, "pairDevice"):
            pairing = request_pairing(server)
            env |= {
                "DEVICE_USER_CODE": pairing["userCode"],
                "DEVICE_CODE": pairing["deviceCode"],
                "DEVICE_NAME": "Living room",
            }
        result = run_e2e("run.mjs", tmp_path, **env)
    print(f"web build {web_build:.1f}s")
    assert result["streamedSnapshots"] >= 2  # the reply grew on screen before it completed
    assert result["mouthShapes"] >= 4  # the face's mouth moved with the visemes
    # The offline responder greets with joy: the face's expression followed EmotionChanged.
    assert set(result["emotions"]) - {"neutral"}, result["emotions"]
    assert result["heardChars"] > 0  # the interrupted reply kept what was heard
    assert result["transcript"].strip()  # the microphone's WAV went through speech-to-text
    assert result["historyPages"] >= 3  # messages(last, before) paged back to the first one
    assert result["exportBytes"] > 0
    # Every JSON request named its document by hash alone (the server trusts the manifest).
    assert result["sentByHash"] >= 10 and result["sentWithText"] == 0, result
    if "DEVICE_USER_CODE" in env:
        assert result["devices"] == 1


def test_a_person_talks_hands_free_and_interrupts_the_companion_by_speaking(
    web_build: float, database_url: str, clean_db: None, tmp_path: Path, handsfree_wav: Path
) -> None:
    with web_stack(database_url, tmp_path) as (server, web_url):
        env = {
            "WEB_URL": web_url,
            "GRAPHQL_URL": server.graphql_url,
            "VOICE_WAV": str(handsfree_wav),
        }
        result = run_e2e("handsfree.mjs", tmp_path, **env)
    # The microphone's speech, streamed over the socket, was heard, shown and sent.
    assert "star" in result["message"].lower(), result
    assert "final" in result["heardStates"], result
    assert result["httpChunks"] == 0  # every chunk went over the WebSocket
    assert result["streamedSnapshots"] >= 2  # the reply grew on screen
    # Speaking over the playing reply stopped it, keeping what was heard.
    assert result["interruptedReplies"] >= 1 and result["heardChars"] > 0
    assert result["heardChars"] < result["streamedChars"], result  # cut where it was heard


def test_the_web_session_outlives_its_access_tokens(
    web_build: float, database_url: str, clean_db: None, tmp_path: Path
) -> None:
    ttl = {"HOLOMATE_ACCESS_TOKEN_TTL_S": str(SHORT_TOKEN_TTL_S)}
    with web_stack(database_url, tmp_path, **ttl) as (server, web_url):
        result = run_e2e(
            "expiry.mjs",
            tmp_path,
            WEB_URL=web_url,
            GRAPHQL_URL=server.graphql_url,
            ACCESS_TTL_S=str(SHORT_TOKEN_TTL_S),
        )
    assert result["socketDrops"] >= 1  # the server closed the stream at expiry; it came back
    # No refresh ended the session (a second tab reading the first's tokens late may be told
    # REFRESH_ROTATED and wait for them: that ends nothing).
    assert result["refreshFailures"] == 0
    assert result["refreshes"] == result["socketDrops"] + 1  # one per expiry, shared by the tabs
    assert result["expiredAnswers"] == 1  # one TOKEN_EXPIRED, one refresh, one retry


def test_the_web_app_reloads_the_history_when_its_cursor_expired(
    web_build: float, database_url: str, clean_db: None, tmp_path: Path
) -> None:
    # The SQL log keeping one event per conversation: a cursor from before the last event
    # cannot be replayed (CURSOR_EXPIRED), on either database.
    forgetful = {"HOLOMATE_BROADCAST_URL": "memory://", "HOLOMATE_EVENT_LOG_MAX_LEN": "1"}
    forgetful["HOLOMATE_DOCUMENTS"] = "open"  # the script asks with documents of its own too
    with web_stack(database_url, tmp_path, **forgetful) as (server, web_url):
        result = run_e2e("expired.mjs", tmp_path, WEB_URL=web_url, GRAPHQL_URL=server.graphql_url)
    assert result["expiredAnswers"] >= 1


def test_a_reply_without_voice_or_without_its_model_says_so(
    web_build: float, database_url: str, clean_db: None, tmp_path: Path
) -> None:
    blocker = tmp_path / "storage-is-a-file"  # every audio write fails: AUDIO_STORAGE_FAILED
    blocker.write_text("not a directory")
    env = {
        "HOLOMATE_STORAGE_DIR": str(blocker),
        # The local model's engine is missing: the persona responder answers (fallback).
        "HOLOMATE_LLM_ENGINE": "local",
        "HOLOMATE_LLM_LOCAL_SERVER": str(tmp_path / "no-such-llama-server"),
    }
    with web_stack(database_url, tmp_path, **env) as (server, web_url):
        run_e2e("degraded.mjs", tmp_path, WEB_URL=web_url, GRAPHQL_URL=server.graphql_url)


def test_a_retryable_failure_offers_to_send_the_message_again(
    web_build: float, database_url: str, clean_db: None, tmp_path: Path
) -> None:
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        down = {"HOLOMATE_LLM_BASE_URL": f"http://127.0.0.1:{closed.getsockname()[1]}/v1"}
        with web_stack(database_url, tmp_path, **down) as (server, web_url):
            run_e2e("retry.mjs", tmp_path, WEB_URL=web_url, GRAPHQL_URL=server.graphql_url)


def test_a_person_sees_and_controls_what_a_companion_remembers_and_brings_a_character_card(
    web_build: float, database_url: str, clean_db: None, tmp_path: Path
) -> None:
    # A small prompt (256 tokens for the history and the rest) so three turns fold into the
    # conversation's summary, which the page's header then shows.
    small = {"HOLOMATE_LLM_CONTEXT_TOKENS": "512", "HOLOMATE_LLM_REPLY_TOKENS": "256"}
    small["HOLOMATE_DOCUMENTS"] = "open"  # the script reads the server with documents of its own
    with web_stack(database_url, tmp_path, **small) as (server, web_url):
        result = run_e2e("memory.mjs", tmp_path, WEB_URL=web_url, GRAPHQL_URL=server.graphql_url)
    print(f"memory view: {tmp_path / 'e2e' / 'memory-view.png'}")
    assert result["model"] == "persona-responder"
    assert result["memoriesShown"] >= 1  # the fact from the first conversation, at least
    assert result["summaryChars"] > 0
    assert result["exportedFile"].endswith(".json")


def test_the_companion_is_a_3d_character_whose_face_follows_the_reply(
    web_build: float, database_url: str, clean_db: None, tmp_path: Path
) -> None:
    with web_stack(database_url, tmp_path) as (server, web_url):
        result = run_e2e(
            "character3d.mjs", tmp_path, WEB_URL=web_url, GRAPHQL_URL=server.graphql_url
        )
    peaks: dict[str, float] = result["peaks"]
    # The project's own VRM, drawn with WebGL in place of the SVG face.
    assert result["url"] == "/characters/default.vrm"
    # The mouth went through vowels with the visemes, on the audio clock.
    assert len({v for v in ("aa", "ih", "ou", "ee", "oh") if peaks.get(v, 0) > 0.3}) >= 2, peaks
    # The reply's emotion showed, and never as more than the cap (no grin over the words).
    moods = {m: peaks[m] for m in ("happy", "angry", "sad", "relaxed", "surprised") if m in peaks}
    assert moods and max(moods.values()) <= 0.7, peaks
    assert peaks.get("blink", 0) > 0, peaks  # idle blinking, beside the speech
    # A character asset points at any VRM URL; one that cannot load leaves the SVG face.
    assert result["assetUrl"].endswith("/characters/default.vrm?copy=1")
    assert result["fallback"] == "face"
