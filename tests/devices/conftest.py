"""Pairing polls every second here (5 s in production), so the RFC 8628 flow runs quickly."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def fast_pairing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Autouse fixtures run before `settings` and `server`, which both read the environment.
    monkeypatch.setenv("HOLOMATE_PAIRING_INTERVAL_S", "1")
