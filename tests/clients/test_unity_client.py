"""The Unity client's Core, built with Mono, pairs with a live server and plays a whole reply.

LiveHarness runs the real device flow (RFC 8628 pairing, hologramEvents over
graphql-transport-ws, timeline checks, audio downloads); this test is the owner's side of it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import shutil
import subprocess
from asyncio.subprocess import PIPE
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.devices.helpers import Lines, pair_in_process, wait_online
from tests.realtime.helpers import live_cursor, ok, send, setup_conversation
from tests.support.graphql import GraphQLClient, create_companion, register
from tests.support.server import LiveServer
from tests.support.voice import spoken_wav

pytestmark = pytest.mark.one_backend  # the client; the server's paths run on both in realtime/
UNITY = Path(__file__).resolve().parents[2] / "unity_client"
BIN = UNITY / "Tests" / "Mono~" / "bin"
PAIR = 'mutation($u: String!) { pairDevice(userCode: $u, name: "Harness") { id } }'
ASSIGN = """
mutation($d: ID!, $c: ID!) { assignCompanionToDevice(deviceId: $d, companionId: $c) { id } }
"""


@pytest.fixture(autouse=True)
def fast_pairing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Read by the `server` fixture: the harness waits one interval before each poll.
    monkeypatch.setenv("HOLOMATE_PAIRING_INTERVAL_S", "1")


@functools.cache
def build_harness() -> Path:
    """Tests/Mono~/build.sh: every assembly of the package (the Unity ones against stand-ins),
    once per run (7 s on the busy CI machine)."""
    missing = [tool for tool in ("mcs", "mono") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: the Unity client is built with Debian's Mono "
            "(./dev setup, or apt-get install mono-mcs mono-runtime "
            "libmono-system-net-http4.0-cil)"
        )
    proc = subprocess.run(
        ["sh", str(UNITY / "Tests" / "Mono~" / "build.sh")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"build.sh failed:\n{proc.stdout}\n{proc.stderr}"
    return BIN / "LiveHarness.exe"


@pytest.fixture
def harness(server: LiveServer) -> Iterator[tuple[subprocess.Popen[str], Lines]]:
    exe = build_harness()
    proc = subprocess.Popen(
        ["mono", str(exe), "--url", server.graphql_url, "--timeout", "90"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, Lines(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        if proc.stderr is not None:
            proc.stderr.close()
        if proc.stdout is not None:
            proc.stdout.close()


def test_the_unity_client_pairs_and_plays_a_whole_reply(
    server: LiveServer, harness: tuple[subprocess.Popen[str], Lines]
) -> None:
    proc, lines = harness
    world = setup_conversation(server)
    user_code = lines.until("USER_CODE", 60)
    device = ok(server, PAIR, {"u": user_code}, world["token"])["pairDevice"]
    ok(server, ASSIGN, {"d": device["id"], "c": world["companion"]}, world["token"])
    assert lines.until("PAIRED", 30) == device["id"]
    lines.until("SUBSCRIBED", 30)
    wait_online(server, world["token"], device["id"])
    send(server, world["token"], world["conversation"], "Hello hologram, how are you?")
    result: dict[str, Any] = json.loads(lines.until("RESULT", 120))
    print(f"\nLiveHarness RESULT {json.dumps(result)}")
    assert result["ok"] is True, result["problems"]
    assert result["chunks"] > 0 and result["frames"] > 0
    assert result["audioBytes"] > 0
    assert proc.wait(15) == 0


@pytest.fixture
def question_wav(tmp_path: Path) -> Path:
    """espeak-ng's own 22,050 Hz: the harness resamples it to 16 kHz as a device's rate."""
    text = "Hello Mira. Which planets can we see from the garden tonight?"
    return spoken_wav(tmp_path / "question.wav", text, (0.5, 1))


def test_the_unity_client_talks_hands_free_and_interrupts_a_reply_by_speaking(
    server: LiveServer, question_wav: Path
) -> None:
    """VoiceHarness streams a WAV in real time through the Core's VoiceChunker and VoiceSession
    on the socket that follows the conversation: the transcript becomes the message and the
    reply comes whole; said again over the next reply while it plays, it stops that reply."""
    exe = build_harness().with_name("VoiceHarness.exe")
    world = setup_conversation(server)
    args = ["--url", server.graphql_url, "--token", world["token"], "--timeout", "150"]
    args += ["--conversation", world["conversation"], "--after", live_cursor(server, world)]
    proc = subprocess.run(
        ["mono", str(exe), *args, "--wav", str(question_wav), "--barge-in"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, proc.stdout[-4000:] + proc.stderr[-2000:]
    result: dict[str, Any] = json.loads(lines[-1].removeprefix("RESULT "))
    print(f"\nVoiceHarness RESULT {json.dumps(result)}")
    assert result["ok"] is True, result["problems"]
    assert result["sourceRate"] == 22050  # resampled by the Core, not by the test
    assert result["outcome"] == "MESSAGE"
    assert "planets" in result["transcript"].lower() and result["message"] == result["transcript"]
    assert result["reply"] and result["deltas"] >= 1
    # The second reply, spoken over while playing, stopped where it was heard.
    assert result["interruptedId"] == result["secondReplyId"]
    assert result["closed"] == "ENDED"
    assert proc.returncode == 0


@pytest.mark.parametrize("program", ["CoreTests.exe", "PackageTests.exe"])
def test_the_unity_core_passes_its_own_tests(program: str) -> None:
    """CoreTests.cs: protocol, resume, reload on CURSOR_EXPIRED, timelines, the expression mixer,
    against fakes; PackageTests: the package's Unity test-runner classes (Tests/Runtime,
    Tests/Editor) on a stand-in NUnit."""
    build_harness()
    proc = subprocess.run(["mono", str(BIN / program)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert proc.stdout.rstrip().endswith(" 0 failed"), proc.stdout[-4000:]


CREATE_ASSET = """
mutation($input: CharacterAssetInput!) { createCharacterAsset(input: $input) { id } }
"""


async def mono(*args: str) -> str:
    """A program of the Mono build; its output, once it exited 0 and printed no failure."""
    proc = await asyncio.create_subprocess_exec(
        "mono", str(BIN / args[0]), *args[1:], stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode()[-4000:] + err.decode()[-2000:]
    return out.decode()


async def test_the_vrm_drivers_move_a_vrm_models_expressions_on_the_audio_clock(
    api: GraphQLClient, tmp_path: Path
) -> None:
    """The server answers the Core's own deviceManifest query for a VRM 1.0 and a VRM 0.x
    character; VrmDriverTests.cs reads each answer through the Core, plays one reply's events
    through the ReplyRouter and steps Vrm10ExpressionDriver (aa..oh, happy, sad) or
    Vrm0ExpressionDriver (A..O, Joy, Sorrow) along the audio clock, reading the expression keys
    and weights UniVRM (stand-ins of its API) would have been given."""
    build_harness()
    query = await mono("VrmDriverTests.exe", "--print-query")
    token = (await register(api, "ada@example.com"))["accessToken"]
    device = await pair_in_process(api, token)
    for version in ("VRM1", "VRM0"):
        asset = {"name": "Mira", "format": "VRM", "url": "https://cdn.example.com/m.vrm"}
        asset |= {"vrmVersion": version, "emotionMap": {"affection": "Blush"}}
        created = await api.ok(CREATE_ASSET, {"input": asset}, token)
        wears = {"characterAssetId": created["createCharacterAsset"]["id"]}
        companion = await create_companion(api, token, **wears)
        await api.ok(ASSIGN, {"d": device["id"], "c": companion["id"]}, token)
        answer = tmp_path / f"{version}.json"
        answer.write_text(json.dumps(await api.ok(query, token=device["token"])))
        out = await mono("VrmDriverTests.exe", "--manifest", str(answer), "--expect", version)
        assert out.rstrip().endswith(" 0 failed"), out[-4000:]
