"""``holomate register-device``: the terminal stand-in for a hologram pairs and shows a reply."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.devices.helpers import ASSIGN, PAIR, Lines, wait_online
from tests.realtime.helpers import ok, send, setup_conversation
from tests.support.server import LiveServer

HOLOMATE = Path(sys.executable).parent / "holomate"


def test_register_device_pairs_and_prints_the_live_stream(server: LiveServer) -> None:
    world = setup_conversation(server)
    proc = subprocess.Popen(
        [str(HOLOMATE), "register-device", "--url", server.url, "--until-reply"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = Lines(proc)
        code = lines.until("USER_CODE", 20)
        device = ok(server, PAIR, {"u": code, "n": "Terminal"}, world["token"])["pairDevice"]
        ok(server, ASSIGN, {"d": device["id"], "c": world["companion"]}, world["token"])
        assert lines.until("PAIRED", 20) == device["id"]
        lines.until("LISTENING", 20)
        wait_online(server, world["token"], device["id"])
        send(server, world["token"], world["conversation"], "Hi from the terminal")
        completed = lines.until("ReplyCompleted", 60)
        assert "You said" in completed
        assert proc.wait(10) == 0
        assert any(line.startswith("AudioChunk") for line in lines.seen)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
