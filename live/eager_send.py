"""Call an ASGI ``send`` now, from synchronous code, without a task for the usual case.

A WebSocket ``send`` on a writable socket never suspends (uvicorn writes the frame to the
transport and returns), so the direct delivery path runs the coroutine to its end right where
it is. Only when it does suspend (the transport is paused because the client reads slowly) does
a task take the rest of it over, exactly as a task would have run it from the start.

Python 3.12's eager tasks do the same; this project runs on 3.11 too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


def send_eagerly(send_coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run it up to its first suspension; None if it finished, else the task finishing it.
    What it raises before suspending is raised here, what it raises later by the task."""
    try:
        yielded = send_coroutine.send(None)
    except StopIteration:
        return None
    task = asyncio.ensure_future(_finish(send_coroutine, yielded))
    task.add_done_callback(_retrieve)  # whoever awaits it still gets the error
    return task


def _retrieve(task: asyncio.Future[None]) -> None:
    """A write to a client that left fails; nobody may be left to await it (the operation
    ended meanwhile), and that is no error worth logging."""
    if not task.cancelled():
        task.exception()


async def _finish(coroutine: Coroutine[Any, Any, None], yielded: Any) -> None:
    """Go on as ``asyncio.Task`` would: wait for what it yielded, then resume it."""
    try:
        while True:
            if yielded is None:  # a bare yield (asyncio.sleep(0)): just let others run
                await asyncio.sleep(0)
            else:
                yielded._asyncio_future_blocking = False
                await asyncio.wait((yielded,))
            try:
                yielded = coroutine.send(None)
            except StopIteration:
                return
    finally:
        coroutine.close()  # a no-op once it finished; a cancelled wait ends it here
