"""A bounded pool of single-process worker slots, for work that must not run in the server.

Offline speech (espeak-ng) and speech-to-text (PocketSphinx) are CPU-bound C calls: in the
server's process they take the event loop's core, and PocketSphinx keeps the GIL for a whole
utterance. Each slot here is a single-process ``ProcessPoolExecutor`` (spawned, so no locks or
sockets of the server are inherited) whose process runs niced (the kernel serves the server
first when the cores are busy), loads its model once (:meth:`ProcessSlots.worker_init`) and is
killed by the kernel when the server dies. One process per slot means a job that overruns
``timeout_s`` is stopped by killing exactly its own process; the slot starts a fresh one, and a
worker that dies (``BrokenProcessPool``) is replaced the same way, so later jobs never see a
broken pool.

    admitted = running (<= workers) + waiting (<= queue); beyond that: SlotsBusy at once

The pool raises its own errors (:class:`SlotsBusy`, :class:`SlotsClosed`, :class:`JobTimedOut`,
:class:`WorkerLost`); each provider says what they mean to its callers. ``running``,
``waiting`` and ``refused`` (by :data:`REFUSALS` reason) are read by /metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

log = logging.getLogger("holomate.workers")
R = TypeVar("R")
_PR_SET_PDEATHSIG = 1
_NICENESS = 10
# Why a job got no result from the pool (the keys of ``ProcessSlots.refused``).
QUEUE_FULL, TIMEOUT, WORKER_LOST = "queue_full", "timeout", "worker_lost"
REFUSALS = (QUEUE_FULL, TIMEOUT, WORKER_LOST)


class SlotsBusy(Exception):
    """Every worker is busy and the waiting line is full."""

    def __init__(self, waiting: int) -> None:
        super().__init__(f"{waiting} jobs already wait for a worker")
        self.waiting = waiting


class SlotsClosed(Exception):
    """The pool is shutting down (its workers were stopped, a job in flight included)."""


class JobTimedOut(Exception):
    """The job outlived ``timeout_s``; its worker was stopped."""


class WorkerLost(Exception):
    """The worker process died mid-job (killed, out of memory) or could not start."""


# ---- in the worker process -------------------------------------------------------------


def _start_worker(
    server_pid: int, initializer: Callable[..., None], initargs: tuple[Any, ...]
) -> None:
    _die_with(server_pid)
    with contextlib.suppress(OSError):
        os.nice(_NICENESS)
    initializer(*initargs)


def _die_with(server_pid: int) -> None:
    """Have the kernel kill this worker when the server dies (SIGKILL, a crash): the lifespan
    that would stop it never runs then, and a long job would go on for nobody."""
    with contextlib.suppress(OSError, AttributeError):  # Linux only; elsewhere, skip
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != server_pid:  # the server died before the line above
        os._exit(1)


def _ping() -> int:
    return os.getpid()


# ---- in the server -----------------------------------------------------------------------


def start_workers_of(provider: object) -> None:
    """:meth:`ProcessSlots.start_workers` of a provider that runs in worker slots, or of one
    that wraps such a provider; nothing for the others (cloud providers, threads)."""
    start = getattr(provider, "start_workers", None)
    if callable(start):
        start()


@dataclass(eq=False, slots=True)
class _Slot:
    executor: ProcessPoolExecutor | None = None
    ready: Future[int] | None = None  # the process is up and its model loaded: its pid
    pid: int | None = None


def _stop(executor: ProcessPoolExecutor) -> None:
    """Kill the slot's process (a running job cannot be cancelled otherwise) and let go."""
    # The executor keeps its processes private; Python 3.14 adds kill_workers() for this.
    for process in list((executor._processes or {}).values()):
        with contextlib.suppress(Exception):
            process.kill()
    executor.shutdown(wait=False, cancel_futures=True)


def _cancelled_by_caller() -> bool:
    """Whether a CancelledError is the awaiting task's own, not the pool cancelling the job."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


@dataclass(eq=False)
class ProcessSlots(Generic[R]):
    """Runs ``job(*args)`` in one of ``workers`` processes, each prepared by :meth:`worker_init`.

    A provider subclasses it (its settings are these fields) and says what the pool's errors
    mean to its callers. ``timeout_s`` bounds one job from the moment a ready worker takes it
    (starting a process and waiting in line, bounded by ``queue``, are not counted). A worker
    starts on its first job, from the event loop's thread, which lives as long as the server
    (the parent-death signal follows the thread that started the process).
    """

    # A job whose caller goes away runs to its end and frees its slot then (short jobs:
    # stopping the process would cost a restart); otherwise its process is stopped at once.
    finish_abandoned: ClassVar[bool] = False

    workers: int = 1
    queue: int = 4
    timeout_s: float = 300.0
    refused: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REFUSALS, 0))
    _slots: list[_Slot] = field(default_factory=list, init=False, repr=False)
    _idle: list[_Slot] = field(default_factory=list, init=False, repr=False)
    _free: asyncio.Semaphore | None = field(default=None, init=False, repr=False)
    _waiting: int = field(default=0, init=False, repr=False)
    _closed: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"{type(self).__name__} needs at least one worker")
        self._slots = [_Slot() for _ in range(self.workers)]
        self._idle = list(self._slots)

    def worker_init(self) -> tuple[Callable[..., None], tuple[Any, ...]]:
        """What each worker process runs once before its first job (module level: it pickles)."""
        raise NotImplementedError

    @property
    def running(self) -> int:
        """Jobs a worker has taken (running, or waiting for their worker to start)."""
        return self.workers - len(self._idle)

    @property
    def waiting(self) -> int:
        return self._waiting

    def worker_pids(self) -> list[int]:
        """Worker processes that are up (each starts on its first job)."""
        return [slot.pid for slot in self._slots if slot.pid is not None]

    async def run(self, job: Callable[..., R], *args: Any) -> R:
        """``job(*args)`` in a worker; ``job`` and its arguments must pickle (module level)."""
        if self._closed:
            raise SlotsClosed()
        free = self._free or asyncio.Semaphore(self.workers)
        self._free = free
        if free.locked() and self._waiting >= self.queue:
            self.refused[QUEUE_FULL] += 1
            raise SlotsBusy(self._waiting)
        self._waiting += 1
        try:
            await free.acquire()
        finally:
            self._waiting -= 1
        slot = self._idle.pop()
        # Once only: a job that timed out frees its slot at once, and its late end must not
        # touch the slot's next process.
        released = False

        def release(finished: asyncio.Future[R] | None = None) -> None:
            nonlocal released
            if released:
                return
            released = True
            if finished is not None and not finished.cancelled():
                if isinstance(finished.exception(), BrokenProcessPool):
                    self._discard(slot)  # its process is gone: the next job starts another
            self._idle.append(slot)
            free.release()

        try:
            submitted = await self._submit(slot, job, args)
        except BrokenProcessPool:
            release()
            self.refused[WORKER_LOST] += 1
            raise WorkerLost("the worker cannot start") from None
        except asyncio.CancelledError:
            if not self.finish_abandoned or not _cancelled_by_caller():
                self._discard(slot)
            release()
            if _cancelled_by_caller():
                raise
            raise self._gone() from None
        except BaseException:
            release()
            raise
        done = asyncio.wrap_future(submitted)
        done.add_done_callback(release)
        try:
            async with asyncio.timeout(self.timeout_s):
                return await asyncio.shield(done)
        except TimeoutError:
            self.refused[TIMEOUT] += 1
            self._discard(slot)
            release()
            raise JobTimedOut(
                f"no result within {self.timeout_s:g} s; the job was stopped"
            ) from None
        except BrokenProcessPool:
            log.warning("worker %s stopped mid-job; the next job starts another", slot.pid)
            self.refused[WORKER_LOST] += 1
            raise WorkerLost("the worker stopped mid-job") from None
        except asyncio.CancelledError:
            if not _cancelled_by_caller():  # the pool stopped the job (shutting down)
                raise self._gone() from None
            if not self.finish_abandoned and not done.done():  # free the CPU it was using
                self._discard(slot)
                release()
            raise

    def _gone(self) -> Exception:
        """The error for a job the pool itself stopped (its executor was shut down)."""
        if self._closed:
            return SlotsClosed()
        self.refused[WORKER_LOST] += 1
        return WorkerLost("the worker was stopped")

    def start_workers(self) -> None:
        """Start the idle slots' processes now rather than on their first jobs (a process and
        its model take 1-3 s): when a job a person will wait for is about to come."""
        for slot in self._idle:
            self._launch(slot)

    def _launch(self, slot: _Slot) -> None:
        if slot.executor is None and not self._closed:
            slot.executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(os.getpid(), *self.worker_init()),
            )
            slot.ready = slot.executor.submit(_ping)

    async def _submit(self, slot: _Slot, job: Callable[..., R], args: tuple[Any, ...]) -> Future[R]:
        """Hand the job to the slot's process once it is up; to a fresh one if the last one
        broke while idle (killed, out of memory) or could not start."""
        for attempt in (1, 2):
            self._launch(slot)
            if slot.executor is None or slot.ready is None:
                raise SlotsClosed()
            try:
                slot.pid = await asyncio.wrap_future(slot.ready)
                if slot.executor is None:  # closed meanwhile
                    raise SlotsClosed()
                return slot.executor.submit(job, *args)
            except BrokenProcessPool:
                self._discard(slot)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _discard(self, slot: _Slot) -> None:
        if slot.executor is not None:
            _stop(slot.executor)
        slot.executor, slot.ready, slot.pid = None, None, None

    async def aclose(self) -> None:
        """Stop every worker, busy or not (a job in flight fails with :class:`SlotsClosed`)."""
        self._closed = True
        executors = [slot.executor for slot in self._slots if slot.executor is not None]
        for slot in self._slots:
            self._discard(slot)
        # Joining the executors' manager threads can take a moment: not on the event loop.
        for executor in executors:
            await asyncio.to_thread(executor.shutdown, wait=True)
