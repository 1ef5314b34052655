"""What the deployment tests read: the repository's files, YAML documents, the setting names."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.app import create_app
from api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
# Credentials the S3 storage takes from the standard AWS chain, not from HOLOMATE_* settings.
AWS_NAMES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"}


def tool(name: str) -> str:
    """A checker's executable, installed into the project's environment by ./dev setup."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed (./dev setup installs it)"
    return found


def load_yaml(path: Path) -> list[Any]:
    """Every document of a YAML file."""
    with path.open() as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def unknown_settings(names: Iterable[str]) -> list[str]:
    """The names that the server would ignore: neither a setting of api/settings.py (nested
    ones as ``PARENT__CHILD``) nor an AWS credential. A misspelt name is silently ignored by
    pydantic-settings, so a deployment file with one runs with the default instead."""
    fields = set(Settings.model_fields)
    unknown = []
    for name in names:
        if name in AWS_NAMES:
            continue
        match = re.fullmatch(r"HOLOMATE_([A-Z0-9_]+?)(?:__.+)?", name)
        if match is None or match[1].lower() not in fields:
            unknown.append(name)
    return unknown


def server_built_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings of a server started with this environment, once its app is built: settings
    and the app refuse what production forbids (the default secret, free local billing, S3
    without a bucket...) before serving anything, so a refusal here is a container that would
    restart forever. Nothing connects: that happens in the app's lifespan."""
    for name in list(os.environ):
        if name.startswith("HOLOMATE_") or name in AWS_NAMES:
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    create_app(settings)
    return settings
