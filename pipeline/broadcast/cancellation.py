"""Re-raise a cancellation that Python 3.11 swallowed.

On 3.11 ``asyncio.wait_for`` returns the result instead of raising when the task is cancelled just
as the awaited operation completes (CPython gh-86296, fixed in 3.12), and redis-py sends every
command through it when ``socket_timeout`` is set. Measured here: a subscription cancelled during
a Redis read carried on, so a client that left kept its subscription. After such awaits we check
whether a cancellation was requested and not honoured.
"""

from __future__ import annotations

import asyncio


def raise_if_cancel_swallowed() -> None:
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError()
