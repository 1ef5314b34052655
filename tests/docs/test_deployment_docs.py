"""An operator configures the server from docs/deployment.md: every setting must be there."""

from __future__ import annotations

import pytest

from api.settings import Settings
from tests.docs.markdown import DOCS

pytestmark = pytest.mark.one_backend


def test_every_setting_is_documented_in_deployment_md() -> None:
    text = (DOCS / "deployment.md").read_text(encoding="utf-8")
    missing = [
        f"HOLOMATE_{name.upper()}"
        for name in Settings.model_fields
        if f"`HOLOMATE_{name.upper()}`" not in text
    ]
    assert not missing, f"document these in docs/deployment.md (Settings): {missing}"
