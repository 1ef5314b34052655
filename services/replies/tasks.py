"""Background tasks kept by reference until they end, so none is lost, none fails unseen, and
a stop can wait for them (asyncio keeps only a weak reference to a task: one nobody holds may be
collected mid-flight, and its failure surfaces, if ever, as "Task exception was never
retrieved")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

_T = TypeVar("_T")


class TaskSet:
    """Tasks started for later: each is held until done; a failure is logged under its name."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def start(self, work: Coroutine[Any, Any, _T], name: str) -> asyncio.Task[_T]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._ended)
        return task

    def _ended(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            self._log.error("%s failed", task.get_name(), exc_info=error)

    async def drain(self, timeout_s: float) -> None:
        """Let the tasks running now finish, so none is cut off mid-query as the server goes
        away; stragglers past ``timeout_s`` are cancelled, and awaited."""
        if not self._tasks:
            return
        _, late = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in late:
            self._log.warning("%s still running at shutdown; cancelled", task.get_name())
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)


async def stop_task(task: asyncio.Task[None] | None) -> None:
    """Cancel a long-running loop task and wait until it has ended (whatever it raised)."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
