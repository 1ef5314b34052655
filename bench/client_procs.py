"""The benchmarks' client processes: the sockets' load is spread over spawned processes, so the
client side never becomes the bottleneck of the server it measures (bench/fanout.py,
bench/load.py). Each process runs ``main(conn)`` and answers the commands sent on its pipe.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
from collections.abc import Callable, Coroutine
from multiprocessing.connection import Connection
from typing import Any

ClientMain = Callable[[Connection], Coroutine[Any, Any, None]]


def _client_process(main: ClientMain, conn: Connection) -> None:
    asyncio.run(main(conn))


class ClientProcesses:
    """`procs` client processes; every command goes to all of them and waits for all."""

    def __init__(self, procs: int, main: ClientMain) -> None:
        ctx = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        for _ in range(procs):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_client_process, args=(main, child), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def all(self, *messages: tuple[Any, ...]) -> list[Any]:
        """One message per process (in order); their answers."""
        for pipe, message in zip(self.pipes, messages, strict=True):
            pipe.send(message)
        return [pipe.recv() for pipe in self.pipes]

    def same(self, *message: Any) -> list[Any]:
        return self.all(*[message] * len(self.pipes))

    def split(self, count: int) -> list[int]:
        """``count`` shared out as evenly as the processes allow."""
        procs = len(self.pipes)
        return [count // procs + (i < count % procs) for i in range(procs)]

    def stop(self) -> None:
        for pipe in self.pipes:
            pipe.send(("exit",))
        for proc in self.procs:
            proc.join(5)
