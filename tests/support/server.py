"""Real uvicorn server processes for tests that need the network (clients, WebSockets)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from api.settings import Settings
from pipeline.ports import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class LiveServer:
    url: str
    port: int
    env: dict[str, str]
    pid: int = 0  # of the uvicorn process, for benchmarks reading /proc
    log: Path | None = None  # what the server printed (stdout and stderr)

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"


@contextmanager
def live_server(
    database_url: str,
    storage_dir: Path,
    *,
    app: str = "api.asgi:app",
    ws_per_message_deflate: bool = False,
    server_limits_frames: bool = True,
    port: int | None = None,  # one chosen beforehand (a scraper configured before it starts)
    **extra_env: str,
) -> Iterator[LiveServer]:
    """Deflate is off unless asked for: it costs ~40 KiB of server memory per WebSocket.
    ``app`` lets a benchmark start another ASGI app (with a /readyz) the same way. The server
    refuses WebSocket frames over HOLOMATE_MAX_WS_FRAME_BYTES as ``holomate serve`` has it do,
    unless ``server_limits_frames`` is off (uvicorn's own default then: 16 MiB)."""
    port = port or free_port()
    env = {
        **os.environ,
        "HOLOMATE_ENV": "test",
        "HOLOMATE_DATABASE_URL": database_url,
        "HOLOMATE_STORAGE_DIR": str(storage_dir),
        "HOLOMATE_MIGRATE_ON_START": "false",
        "HOLOMATE_PASSWORD_TIME_COST": "1",
        "HOLOMATE_PASSWORD_MEMORY_KIB": "8192",
        "HOLOMATE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        # Deterministic replies, for tests and benchmarks alike; a test of the local model
        # passes HOLOMATE_LLM_ENGINE="local".
        "HOLOMATE_LLM_ENGINE": "responder",
        **extra_env,
    }
    log = storage_dir.parent / f"server-{port}.log"
    frame_limit = env.get("HOLOMATE_MAX_WS_FRAME_BYTES") or default_setting("max_ws_frame_bytes")
    limits = ["--ws-max-size", str(frame_limit)] if server_limits_frames else []
    storage_dir.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                app,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--ws-per-message-deflate",
                "true" if ws_per_message_deflate else "false",
                *limits,
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_serving(f"http://127.0.0.1:{port}/readyz", proc, log)
            yield LiveServer(
                url=f"http://127.0.0.1:{port}", port=port, env=env, pid=proc.pid, log=log
            )
        finally:
            stop_process(proc)


def default_setting(name: str) -> Any:
    return Settings.model_fields[name].default


def wait_until_serving(
    url: str,
    proc: subprocess.Popen[bytes],
    log: Path,
    timeout_s: float = 30,
    what: str = "server",
) -> None:
    """Poll ``url`` until it answers 200; fail with the process's log if it dies or stalls."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not become ready:\n{log.read_text()[-3000:]}")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
