"""Offline speech-to-text in worker processes, so decoding never holds the server's GIL.

PocketSphinx decodes an utterance in one C call that keeps the GIL: in a thread of the server
it stalled every other request for as long as it ran (~15 s for a 60 s message on a quiet
machine, minutes for a 5-minute one on a busy one). Here each
worker slot is a single-process ``ProcessPoolExecutor`` (spawned, so no locks or sockets of the
server are inherited) whose process loads the decoder once and keeps it. One process per slot
means a job that overruns its timeout, or is abandoned, is stopped by killing exactly its own
process; the slot starts a fresh one, and a worker that dies (``BrokenProcessPool``) is
replaced the same way, so later messages never see a broken pool.

    admitted = running (<= workers) + waiting (<= queue); beyond that: STTBusy at once

``running``, ``waiting`` and ``refused`` (by :data:`REFUSALS` reason) are read by /metrics.

Errors, in the provider tree: :class:`STTBusy` (rate limited: retry after a few seconds),
:class:`STTTimedOut` and :class:`STTWorkerLost` (unavailable, retryable), and
:class:`~pipeline.audio.UndecodableAudio` from the worker (not retryable).
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
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from pipeline.audio import UndecodableAudio
from pipeline.errors import ProviderRateLimited, ProviderUnavailable
from pipeline.stt.base import Transcript
from pipeline.stt.pocketsphinx_stt import PROVIDER, PocketsphinxSTT

log = logging.getLogger("holomate.stt")
_PR_SET_PDEATHSIG = 1
_NICENESS = 10
# Why a message got no transcript from the pool (the keys of ``ProcessPoolSTT.refused``).
QUEUE_FULL, TIMEOUT, WORKER_LOST = "queue_full", "timeout", "worker_lost"
REFUSALS = (QUEUE_FULL, TIMEOUT, WORKER_LOST)


class STTBusy(ProviderRateLimited):
    """Every worker is busy and the waiting line is full."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(PROVIDER, "every speech-to-text worker is busy and the queue is full")
        self.retry_after_s = retry_after_s


class STTTimedOut(ProviderUnavailable):
    """Decoding outlived its timeout; its worker was stopped."""


class STTWorkerLost(ProviderUnavailable):
    """The worker process died mid-job (killed, out of memory); a new one replaces it."""


# ---- in the worker process -------------------------------------------------------------

_engine: PocketsphinxSTT | None = None


def _start_worker(server_pid: int) -> None:
    global _engine
    _die_with(server_pid)
    # Batch work: when the cores are busy, the kernel serves the server's requests first.
    with contextlib.suppress(OSError):
        os.nice(_NICENESS)
    _engine = PocketsphinxSTT()
    _engine.warm_up()


def _die_with(server_pid: int) -> None:
    """Have the kernel kill this worker when the server dies (SIGKILL, a crash): the lifespan
    that would stop it never runs then, and a 5-minute message would decode for nobody."""
    with contextlib.suppress(OSError, AttributeError):  # Linux only; elsewhere, skip
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != server_pid:  # died before the line above
        os._exit(1)


def _ping() -> int:
    return os.getpid()


def _transcribe(audio: bytes, mime_type: str, language: str) -> Transcript | str:
    """A transcript, or the reason the audio is undecodable (provider errors do not pickle)."""
    assert _engine is not None, "the worker initializer loads the engine"
    try:
        return _engine.transcribe_now(audio, mime_type, language)
    except UndecodableAudio as e:
        return e.detail


# ---- in the server -----------------------------------------------------------------------


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


@dataclass(eq=False)
class ProcessPoolSTT:
    """An :class:`~pipeline.stt.base.STTProvider` running PocketSphinx in ``workers`` processes.

    ``timeout_s`` bounds the decoding of one message, from the moment a ready worker takes it
    (starting a process, ~1-3 s, and waiting in line, bounded by ``queue``, are not counted).
    """

    workers: int = 1
    queue: int = 4
    timeout_s: float = 300.0
    retry_after_s: int = 5
    name: str = PROVIDER
    _slots: list[_Slot] = field(default_factory=list)
    _idle: list[_Slot] = field(default_factory=list)
    _free: asyncio.Semaphore | None = None
    _waiting: int = 0
    _closed: bool = False
    refused: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REFUSALS, 0))

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("ProcessPoolSTT needs at least one worker")
        self._slots = [_Slot() for _ in range(self.workers)]
        self._idle = list(self._slots)

    @property
    def running(self) -> int:
        """Messages a worker has taken (being decoded, or waiting for their worker to start)."""
        return self.workers - len(self._idle)

    @property
    def waiting(self) -> int:
        return self._waiting

    def worker_pids(self) -> list[int]:
        """Worker processes that are up (each starts on its first message)."""
        return [slot.pid for slot in self._slots if slot.pid is not None]

    async def transcribe(self, audio: bytes, mime_type: str, language: str = "en") -> Transcript:
        if self._closed:
            raise ProviderUnavailable(PROVIDER, "speech-to-text is shutting down")
        if not language.lower().startswith("en"):  # refused here: this error does not pickle
            raise ProviderUnavailable(
                PROVIDER, f"only the en-us model is installed, not {language!r}"
            )
        free = self._free or asyncio.Semaphore(self.workers)
        self._free = free
        if free.locked() and self._waiting >= self.queue:
            self.refused[QUEUE_FULL] += 1
            raise STTBusy(self.retry_after_s)
        self._waiting += 1
        try:
            await free.acquire()
        finally:
            self._waiting -= 1
        slot = self._idle.pop()
        try:
            result = await self._run(slot, audio, mime_type, language)
        finally:
            self._idle.append(slot)
            free.release()
        if isinstance(result, str):
            raise UndecodableAudio(PROVIDER, result)
        return result

    async def _run(self, slot: _Slot, audio: bytes, mime: str, language: str) -> Transcript | str:
        job: Future[Transcript | str] | None = None
        try:
            job = await self._submit(slot, audio, mime, language)
            async with asyncio.timeout(self.timeout_s):
                return await asyncio.wrap_future(job)
        except TimeoutError:
            self._discard(slot)
            self.refused[TIMEOUT] += 1
            raise STTTimedOut(
                PROVIDER, f"no transcript within {self.timeout_s:g} s; the job was stopped"
            ) from None
        except BrokenProcessPool:
            log.warning("speech-to-text worker %s stopped mid-job; starting another", slot.pid)
            self._discard(slot)
            self.refused[WORKER_LOST] += 1
            raise STTWorkerLost(PROVIDER, "the speech-to-text worker stopped") from None
        except asyncio.CancelledError:  # the request went away: free the CPU it was using
            if job is None or not job.done():
                self._discard(slot)
            raise

    async def _submit(
        self, slot: _Slot, audio: bytes, mime: str, language: str
    ) -> Future[Transcript | str]:
        """Hand the job to the slot's process once it is up; to a fresh one if the last one
        broke while idle (killed, out of memory) or could not start."""
        for attempt in (1, 2):
            if slot.executor is None:
                slot.executor = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    # Spawned from the event loop's thread, which lives as long as the server:
                    # the parent-death signal follows the thread that started the process.
                    initargs=(os.getpid(),),
                )
                slot.ready = slot.executor.submit(_ping)
            assert slot.ready is not None
            try:
                slot.pid = await asyncio.wrap_future(slot.ready)
                if slot.executor is None:  # closed meanwhile
                    raise ProviderUnavailable(PROVIDER, "speech-to-text is shutting down")
                return slot.executor.submit(_transcribe, audio, mime, language)
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
        """Stop every worker, busy or not (a transcription in flight fails as unavailable)."""
        self._closed = True
        executors = [slot.executor for slot in self._slots if slot.executor is not None]
        for slot in self._slots:
            self._discard(slot)
        # Joining the executors' manager threads can take a moment: not on the event loop.
        for executor in executors:
            await asyncio.to_thread(executor.shutdown, wait=True)
