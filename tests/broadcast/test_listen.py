"""The process-wide listeners (sessions ended, reply interrupts) outlive a message they cannot
read: the failure is logged and the next message is heard."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from pipeline.broadcast import LogEntry, MemoryEventLog
from pipeline.broadcast.listen import listen_forever
from tests.broadcast.conftest import HubFactory

CHANNEL = "control"


async def test_a_message_the_handler_cannot_read_is_logged_and_the_next_is_heard(
    start_hub: HubFactory, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await start_hub("memory://", MemoryEventLog(100))
    heard: list[str] = []

    async def handle(entry: LogEntry) -> None:
        heard.append(str(int(entry.payload)))  # "garbage" raises ValueError

    ready = asyncio.Event()
    log = logging.getLogger("tests.listen")
    task = asyncio.create_task(listen_forever(hub, CHANNEL, handle, ready, log, "test"))
    try:
        await ready.wait()
        # Published until heard: a listener hears what is published once it has subscribed.
        for _ in range(100):
            await hub.publish(CHANNEL, "garbage")
            await asyncio.sleep(0.05)
            if "test listener failed; restarting" in caplog.text:
                break
        assert "test listener failed; restarting" in caplog.text
        assert hub.stats().subscribers == 0  # the failed subscription let go of the channel
        # Likewise: a message sent while the listener restarts is lost.
        for _ in range(100):
            await hub.publish(CHANNEL, "7")
            await asyncio.sleep(0.05)
            if heard:
                break
        assert heard[0] == "7"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
