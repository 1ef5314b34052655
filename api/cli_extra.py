"""Sub-commands that talk to a running server (demo, devices), registered beside the core ones."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Hook for commands added by later features; none yet."""
    _ = sub, argparse
