"""The GitHub Actions workflows, checked by actionlint (and the shell in them by shellcheck)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.deploy.files import ROOT, load_yaml, tool

pytestmark = pytest.mark.one_backend

WORKFLOWS = ROOT / ".github/workflows"


def test_actionlint_and_shellcheck_find_nothing() -> None:
    shellcheck = tool("shellcheck")
    env = {**os.environ, "PATH": f"{Path(shellcheck).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [tool("actionlint"), "-no-color"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    scripts = sorted(str(p) for p in (ROOT / ".github/scripts").glob("*.sh"))
    result = subprocess.run([shellcheck, *scripts], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def test_ci_runs_what_the_project_machines_run() -> None:
    (ci,) = load_yaml(WORKFLOWS / "ci.yml")
    steps = ci["jobs"]["test"]["steps"]
    assert steps[-1]["run"] == "bash .ci/run"
    assert (ROOT / ".ci/run").read_text().rstrip().endswith("exec ./dev test")


def test_a_release_tests_then_pushes_both_images_then_publishes_notes() -> None:
    (release,) = load_yaml(WORKFLOWS / "release.yml")
    # PyYAML reads the key `on` as True (YAML 1.1).
    assert release[True]["push"]["tags"] == ["v*"]
    jobs = release["jobs"]
    assert jobs["test"]["uses"] == "./.github/workflows/ci.yml"
    assert "test" in jobs["images"]["needs"]
    assert jobs["images"]["strategy"]["matrix"]["target"] == ["server", "web"]
    assert jobs["images"]["permissions"]["packages"] == "write"
    assert "images" in jobs["github-release"]["needs"]
