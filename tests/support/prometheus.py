"""Debian's Prometheus (``./dev setup`` installs it) run by a test: a server on a free port of
the loopback interface with its own storage, scraping what the test names, and promtool."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pipeline.ports import free_port
from tests.support.server import ROOT, stop_process, wait_until_serving

DEPLOY = ROOT / "deploy" / "prometheus"
RULES = DEPLOY / "rules" / "holomate.yml"


def tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: ./dev setup installs Debian's prometheus package"
    return found


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("promtool"), *args], capture_output=True, text=True, timeout=60, cwd=ROOT
    )


@dataclass(frozen=True, slots=True)
class Prometheus:
    url: str

    def query(self, expr: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5).json()
        assert answer["status"] == "success", answer
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def wait_for(self, expr: str, timeout_s: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if result := self.query(expr):
                return result
            time.sleep(0.2)
        raise AssertionError(f"{expr} never had a sample")

    def names(self) -> set[str]:
        answer = httpx.get(f"{self.url}/api/v1/label/__name__/values", timeout=5).json()
        return set(answer["data"])


@contextmanager
def prometheus(target: str, workdir: Path, rules: Path = RULES) -> Iterator[Prometheus]:
    """Scrapes ``target`` (host:port) every second and evaluates ``rules`` as often."""
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [{"job_name": "holomate", "static_configs": [{"targets": [target]}]}],
    }
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    log = workdir / "prometheus.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                tool("prometheus"),
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_serving(f"{url}/-/ready", proc, log, what="prometheus")
            yield Prometheus(url)
        finally:
            stop_process(proc)
