"""The React Native app (mobile/) against the real server.

Jest (jest-expo) renders the app's real screens in Node: sign up, create a companion, open the
conversation, send, and the whole streamed reply arrives on screen with its voice and mouth;
talking hands-free, espeak-ng's spoken question streamed as the microphone's PCM shows its final
transcript, becomes the person's message and is answered (mobile/__tests__/). Only native
modules are stood in for (jest-expo's mocks, Expo's audio in mobile/test/nativeAudio.ts, the
microphone's in mobile/test/nativeMic.ts); the WebSocket is Node's `ws` and fetch is Node's, so
the app's urql + graphql-ws client talks to this server over real sockets. Metro bundles the app for
Android offline, as `npx expo export` would for a release (Hermes bytecode).

The server runs in trusted mode, as in production, with the app's manifest (its codegen's
src/gql/persisted-documents.json) and the test's own as another client (the hologram device it
plays, the reads of what was stored): an operation the app sends that is not in its manifest
fails, and Jest checks every request named its document by hash alone (mobile/jest.setup.ts).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.trusted_documents import load_manifests, sha256_of
from tests.support.server import LiveServer
from tests.support.voice import QUESTION, spoken_wav

ROOT = Path(__file__).parents[2]
MOBILE = ROOT / "mobile"
MANIFEST = MOBILE / "src" / "gql" / "persisted-documents.json"
OTHER_CLIENT = MOBILE / "test" / "other-client-documents.json"
OPERATION = re.compile(r"\b(?:query|mutation|subscription)\s+([A-Z]\w*)")

BIN = MOBILE / "node_modules" / ".bin"
TOKEN_TTL_S = 6


# One worker runs both: they share the generated types in mobile/src/gql.
def jest_failures(stderr: str) -> str:
    """Jest's failure blocks ("● file › test" and its assertion), without the console noise."""
    blocks = re.split(r"(?m)^\s*● ", stderr)[1:]
    return "\n● ".join(b[:3000] for b in blocks if not b.startswith("Console")) or stderr[-6000:]


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


@pytest.fixture(scope="module")
def voice_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spoken question as the phone's microphone streams it (16 kHz mono PCM16), for the
    stand-in native recorder (mobile/test/nativeMic.ts)."""
    wav = tmp_path_factory.mktemp("voice") / "question.wav"
    return spoken_wav(wav, QUESTION, (0.5, 0), rate=16000)


@pytest.fixture
def short_token_server(
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    generated_types: None,
) -> LiveServer:
    """The usual `server`, its access tokens living TOKEN_TTL_S: every test outlives its first
    token, so the app refreshes and resumes its streams as it would after a phone's sleep.
    Trusted documents: the app's manifest and the test's own, nothing else runs."""
    other = tmp_path / "other-client-documents.json"
    texts = json.loads(OTHER_CLIENT.read_text()).values()
    other.write_text(json.dumps({sha256_of(text): text for text in texts}))
    # The server inherits these.
    monkeypatch.setenv("HOLOMATE_ACCESS_TOKEN_TTL_S", str(TOKEN_TTL_S))
    monkeypatch.setenv("HOLOMATE_DOCUMENTS", "trusted")
    monkeypatch.setenv("HOLOMATE_TRUSTED_DOCUMENTS", f"{MANIFEST},{other}")
    server: LiveServer = request.getfixturevalue("server")
    return server


def test_the_mobile_manifest_lists_every_operation_the_app_sends(generated_types: None) -> None:
    """The screens send the documents src/lib/operations.ts names (`LoginDocument as LOGIN`):
    each must be in the manifest, or a trusted server refuses it."""
    listed = {
        m[1] for text in load_manifests([MANIFEST]).values() for m in OPERATION.finditer(text)
    }
    names = (MOBILE / "src" / "lib" / "operations.ts").read_text()
    sent = set(re.findall(r"\b(\w+)Document as \w+", names))
    assert len(sent) >= 15 and sent <= listed, sorted(sent - listed)


def test_the_server_image_builds_the_same_mobile_manifest(
    generated_types: None, tmp_path: Path
) -> None:
    """The Dockerfile runs mobile/codegen.ts with the web app's codegen (its web-build stage;
    mobile/ is not in the build context): the image must register what the app sends."""
    for source in ("schema.graphql", "web/src/lib/operations.ts", "web/src/lib/account.ts"):
        (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / source, tmp_path / source)
    (tmp_path / "web" / "node_modules").symlink_to(ROOT / "web" / "node_modules")
    (tmp_path / "mobile").mkdir()
    shutil.copy(MOBILE / "codegen.ts", tmp_path / "mobile" / "codegen.ts")
    (tmp_path / "mobile" / "node_modules").symlink_to("../web/node_modules")
    codegen = subprocess.run(
        ["node_modules/.bin/graphql-codegen", "--config", "codegen.ts"],
        cwd=tmp_path / "mobile",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert codegen.returncode == 0, codegen.stdout[-2000:] + codegen.stderr[-2000:]
    image = tmp_path / "mobile" / "src" / "gql" / "persisted-documents.json"
    assert json.loads(image.read_text()) == json.loads(MANIFEST.read_text())


def test_the_mobile_app_shows_whole_streamed_replies_and_live_devices(
    short_token_server: LiveServer, voice_wav: Path
) -> None:
    env = {
        **os.environ,
        "VOICE_WAV": str(voice_wav),
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
    failures = jest_failures(proc.stderr)
    assert proc.returncode == 0, f"jest failed:\n{failures}\n{proc.stdout[-2000:]}"


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
