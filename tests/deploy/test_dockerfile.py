"""The Dockerfile: linted by hadolint, installed only through ./dev's own steps, unprivileged.

No image is built here (no container engine runs on these machines); what is checked is the file.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.deploy.files import ROOT, tool, unknown_settings

pytestmark = pytest.mark.one_backend

DOCKERFILE = ROOT / "Dockerfile"


def stages() -> dict[str, list[str]]:
    """Each stage's instructions (continuation lines joined), by stage name."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("FROM "):
            current = found.setdefault(line.split(" AS ")[1].strip(), [])
        elif line and not line.startswith("#"):
            current.append(line)
    return found


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [tool("hadolint"), "--format", "json", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(result.stdout or "[]") == []
    assert result.returncode == 0, result.stderr


def test_every_package_is_installed_by_the_steps_ci_runs() -> None:
    """The images install nothing of their own: `./dev install` runs the functions `./dev test`
    runs on every CI machine, so a package missing from the image is missing from CI too."""
    runs = [line for lines in stages().values() for line in lines if line.startswith("RUN ")]
    for run in runs:
        assert not re.search(r"apt-get install|pip install|npm (ci|install)", run), run
    steps = {step for run in runs for step in re.findall(r"\./dev install ([a-z ]+)", run)}
    assert {word for step in steps for word in step.split()} == {
        "system",
        "python",
        "model",
        "speech",
        "node",
    }


def test_the_images_run_unprivileged_and_check_their_own_health() -> None:
    found = stages()
    for name, port, path in (("server", "8000", "/readyz"), ("web", "3000", "/")):
        lines = found[name]
        user = next(line for line in lines if line.startswith("USER "))
        assert re.fullmatch(r"USER [1-9]\d*:[1-9]\d*", user), f"{name}: numeric, not root"
        assert f"EXPOSE {port}" in lines
        healthcheck = next(line for line in lines if line.startswith("HEALTHCHECK "))
        assert f"http://127.0.0.1:{port}{path}'" in healthcheck
        command = next(line for line in lines if line.startswith("CMD "))
        assert f'"--port", "{port}"' in command


def test_the_server_image_sets_only_real_settings() -> None:
    env = " ".join(line for line in stages()["server"] if line.startswith("ENV "))
    names = [n for n in re.findall(r"(\w+)=", env) if n.startswith("HOLOMATE_")]
    assert "HOLOMATE_ENV" in names
    assert unknown_settings(name for name in names if name != "HOLOMATE_SETUP") == []
