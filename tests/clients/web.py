"""Building and serving the Next.js web app (web/) for the browser tests.

The build runs `npm run build` (GraphQL codegen against schema.graphql, then `next build`), at
most once per source state: a hash of the app's sources, its lockfile and the schema is kept in
web/.next, so the second pytest run of ./dev test (PostgreSQL) reuses the first run's build.
Several pytest processes may share the tree (engineers, xdist workers): a file lock lets one of
them build while no `next start` of another is serving web/.next.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest

from tests.support.server import ROOT, stop_process, wait_until_serving

WEB = ROOT / "web"
STAMP = WEB / ".next" / "holomate-build.sha256"
LOCK = WEB / "node_modules" / ".holomate-build.lock"
# The operations' manifest codegen emits with every build: the server's trusted documents.
MANIFEST = WEB / "src" / "gql" / "persisted-documents.json"
INPUTS = ("package-lock.json", "next.config.ts", "codegen.ts", "tsconfig.json")


def source_hash() -> str:
    digest = hashlib.sha256()
    files = [ROOT / "schema.graphql", *(WEB / name for name in INPUTS)]
    files += sorted(p for p in (WEB / "src").rglob("*") if p.is_file() and "gql" not in p.parts)
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def node_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "NEXT_TELEMETRY_DISABLED": "1", **extra}


@contextmanager
def current_build() -> Iterator[float]:
    """A build of the current sources, kept from rebuilds by others while in use.

    Yields the seconds spent building (0 when the last build is current). The lock is held
    exclusively to check and build, then shared until the caller is done serving the build.
    """
    if shutil.which("node") is None or not (WEB / "node_modules" / ".bin" / "next").exists():
        pytest.fail("node and web/node_modules are needed: run ./dev setup")
    with open(LOCK, "a") as lock:
        _lock(lock, fcntl.LOCK_EX)
        seconds = build_web_app()
        _lock(lock, fcntl.LOCK_SH)
        yield seconds


def _lock(lock: IO[str], mode: int) -> None:
    fcntl.flock(lock.fileno(), mode)


def build_web_app() -> float:
    """Build web/ unless the last build saw the same sources; returns the seconds spent."""
    want = source_hash()
    if STAMP.exists() and STAMP.read_text() == want:
        return 0.0
    started = time.monotonic()
    proc = subprocess.run(
        ["npm", "run", "build"],
        cwd=WEB,
        env=node_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, (
        f"npm run build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    )
    STAMP.write_text(want)
    return time.monotonic() - started


@contextmanager
def next_server(port: int, graphql_url: str, log: Path) -> Iterator[str]:
    """`next start` on port, pointed at the GraphQL server at runtime through HOLOMATE_URL."""
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            [
                str(WEB / "node_modules" / ".bin" / "next"),
                "start",
                "-p",
                str(port),
                "-H",
                "127.0.0.1",
            ],
            cwd=WEB,
            env=node_env(HOLOMATE_URL=graphql_url),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_serving(f"{url}/login", proc, log, timeout_s=60, what="next start")
            yield url
        finally:
            stop_process(proc)
