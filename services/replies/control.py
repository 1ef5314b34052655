"""Commands every process hears on ``REPLIES_CONTROL``: a reply runs in the process that received
its message, but ``interruptReply`` and ``deleteMyAccount`` may land on any process.

Wire form, one JSON object per command: ``{"message_id": N, "ms": M}`` interrupts reply N as heard
until M ms; ``{"erase_user": N}`` stops person N's replies and closes their sockets.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from pipeline.broadcast.hub import EventHub
from pipeline.broadcast.listen import listen_forever
from pipeline.broadcast.log_base import LogEntry
from services.channels import REPLIES_CONTROL
from services.replies.running import RunningReplies
from services.replies.tasks import TaskSet, stop_task

log = logging.getLogger("holomate.replies")

InterruptHere = Callable[[int, int], Coroutine[Any, Any, None]]  # (reply, heard until ms)
EndUserHere = Callable[[int], Coroutine[Any, Any, None]]  # (person)


async def send_interrupt(hub: EventHub, message_id: int, heard_until_ms: int) -> None:
    await hub.publish(REPLIES_CONTROL, json.dumps({"message_id": message_id, "ms": heard_until_ms}))


async def send_erase_user(hub: EventHub, user_id: int) -> None:
    await hub.publish(REPLIES_CONTROL, json.dumps({"erase_user": user_id}))


class ControlListener:
    """Acts on each command on this process, in a task of ``tasks`` (awaited, briefly, by the
    service's stop)."""

    def __init__(
        self,
        hub: EventHub,
        running: RunningReplies,
        tasks: TaskSet,
        interrupt_here: InterruptHere,
        end_user_here: EndUserHere,
    ) -> None:
        self.hub = hub
        self.running = running
        self.tasks = tasks
        self.interrupt_here = interrupt_here
        self.end_user_here = end_user_here
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Returns once listening: a command sent after it is heard."""
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._listen(ready), name="replies control")
        await ready.wait()

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    async def _listen(self, ready: asyncio.Event) -> None:
        await listen_forever(self.hub, REPLIES_CONTROL, self._on_command, ready, log, "interrupt")

    async def _on_command(self, entry: LogEntry) -> None:
        command = json.loads(entry.payload)
        if "erase_user" in command:
            user_id = int(command["erase_user"])
            self.tasks.start(self.end_user_here(user_id), f"end user {user_id} here")
        elif (message_id := int(command["message_id"])) in self.running:
            heard_ms = int(command["ms"])
            self.tasks.start(self.interrupt_here(message_id, heard_ms), f"interrupt {message_id}")
