"""Running the node-based client checks in tests/clients from pytest."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent


def run_node(script: str, *args: str, timeout: float = 120) -> list[str]:
    if shutil.which("node") is None or not (HERE / "node_modules").exists():
        pytest.fail("node and tests/clients/node_modules are needed: run ./dev setup")
    proc = subprocess.run(
        ["node", str(HERE / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=HERE,
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout.splitlines()


def last_json(lines: list[str]) -> Any:
    return json.loads(lines[-1])
