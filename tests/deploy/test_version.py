"""One version: pyproject.toml's, copied where others read it, moved together by a release bump."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from api.cli import DISTRIBUTION
from api.cli import main as holomate
from tests.deploy.files import ROOT, load_yaml, tool

pytestmark = pytest.mark.one_backend

SEMVER = r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?"


def pyproject(root: Path) -> dict[str, Any]:
    return tomllib.loads((root / "pyproject.toml").read_text())


def versions(root: Path) -> dict[str, str]:
    """Every copy of the version in a checkout, by where it is."""
    project = pyproject(root)
    package = json.loads((root / "web/package.json").read_text())
    lock = json.loads((root / "web/package-lock.json").read_text())
    unity = json.loads((root / "unity_client/package.json").read_text())
    kustomization = load_yaml(root / "deploy/k8s/kustomization.yaml")[0]
    found = {
        "pyproject [project]": project["project"]["version"],
        "pyproject [tool.bumpversion]": project["tool"]["bumpversion"]["current_version"],
        "web/package.json": package["version"],
        "web/package-lock.json": lock["version"],
        'web/package-lock.json packages[""]': lock["packages"][""]["version"],
        "unity_client/package.json": unity["version"],
    }
    for image in kustomization["images"]:
        found[f"deploy/k8s {image['name']}"] = image["newTag"]
    return found


def test_the_version_is_the_same_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    found = versions(ROOT)
    current = found["pyproject [project]"]
    assert re.fullmatch(SEMVER, current)
    assert found == dict.fromkeys(found, current)
    assert version(DISTRIBUTION) == current  # what the installed server reports
    with pytest.raises(SystemExit):
        holomate(["--version"])
    assert capsys.readouterr().out == f"holomate {current}\n"


def test_the_changelog_keeps_an_unreleased_section_and_dated_releases() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## (.*)$", text, flags=re.MULTILINE)
    assert headings[0] == "[Unreleased]"
    for heading in headings[1:]:
        assert re.fullmatch(rf"\[{SEMVER}\] - \d{{4}}-\d{{2}}-\d{{2}}", heading), heading


def test_a_release_bump_moves_every_copy_and_dates_the_changelog(tmp_path: Path) -> None:
    config = pyproject(ROOT)["tool"]["bumpversion"]
    for entry in config["files"]:
        (tmp_path / entry["filename"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / entry["filename"], tmp_path / entry["filename"])
    major, minor, _ = config["current_version"].split(".")
    result = subprocess.run(
        [tool("bump-my-version"), "bump", "minor", "--no-commit", "--no-tag"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    released = f"{major}.{int(minor) + 1}.0"
    found = versions(tmp_path)
    assert found == dict.fromkeys(found, released)
    today = datetime.date.today().isoformat()
    for changelog in ("CHANGELOG.md", "unity_client/CHANGELOG.md"):
        text = (tmp_path / changelog).read_text()
        assert f"## [Unreleased]\n\n## [{released}] - {today}\n" in text, changelog
    # The release's notes (release.yml) are what Unreleased said, and nothing before it.
    unreleased = (ROOT / "CHANGELOG.md").read_text().split("## [Unreleased]\n", 1)[1]
    notes = subprocess.run(
        [str(ROOT / ".github/scripts/release-notes.sh"), released, "CHANGELOG.md"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert notes.strip() == unreleased.split("\n## [", 1)[0].strip()
