"""Waiting for a state in async tests, rather than sleeping for a guessed duration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], bool], what: str, limit_s: float = 60) -> None:
    """Wait for a state (not a duration); fail if it never comes."""
    for _ in range(int(limit_s * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never reached: {what}")
