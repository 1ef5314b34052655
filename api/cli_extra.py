"""Sub-commands that talk to a running server (demo, devices), registered beside the core ones."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Each feature's commands add their own parser here."""
    from api import backup_cli, demo, device_cli

    _ = argparse
    demo.add_parser(sub)
    device_cli.add_parser(sub)
    backup_cli.add_parsers(sub)
