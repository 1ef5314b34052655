"""Offline speech (espeak-ng) in worker processes, so synthesis never takes the event loop's CPU.

In the server's own process, espeak-ng cost ~0.2 s of CPU per reply on the event loop's core:
80 people sending at once waited for each other's synthesis before their first text appeared
(first delta p99 4.7 s). Here each worker slot is a single-process ``ProcessPoolExecutor``
(spawned, so nothing of the server is inherited) that loads the library once, runs niced (the
kernel serves the server first when the cores are busy) and is killed by the kernel when the
server dies. One process per slot means a sentence that overruns ``timeout_s`` is stopped by
killing exactly its own process, and a worker that dies is replaced on the next sentence.

    admitted = running (<= workers) + waiting (<= queue); beyond that: SpeechBusy at once

The reply pipeline turns :class:`~pipeline.tts.base.SpeechBusy` into a text-only rest of the
reply and :class:`~pipeline.tts.base.SpeechWorkerLost` into one sentence without audio, each
said once with ``ReplyDegraded`` (``SPEECH_BUSY``); text deltas never wait for either.
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

from pipeline.errors import ProviderBadResponse, ProviderError, ProviderUnavailable
from pipeline.tts.base import SpeechBusy, SpeechWorkerLost, Synthesis, VoiceInfo, VoiceSettings
from pipeline.tts.espeak import PROVIDER, EspeakTTS, synthesis

log = logging.getLogger("holomate.tts")
_PR_SET_PDEATHSIG = 1
_NICENESS = 10
# Why a sentence got no audio from the pool (the keys of ``ProcessPoolTTS.refused``).
QUEUE_FULL, TIMEOUT, WORKER_LOST = "queue_full", "timeout", "worker_lost"
REFUSALS = (QUEUE_FULL, TIMEOUT, WORKER_LOST)


# ---- in the worker process -------------------------------------------------------------


def _start_worker(server_pid: int, library: str | None) -> None:
    _die_with(server_pid)
    with contextlib.suppress(OSError):
        os.nice(_NICENESS)
    synthesis("ready", VoiceSettings(), library)  # loads the library and a voice once


def _die_with(server_pid: int) -> None:
    """Have the kernel kill this worker when the server dies (SIGKILL, a crash): the lifespan
    that would stop it never runs then."""
    with contextlib.suppress(OSError, AttributeError):  # Linux only; elsewhere, skip
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != server_pid:  # the server died before the line above
        os._exit(1)


def _ping() -> int:
    return os.getpid()


def _synthesize(text: str, voice: VoiceSettings, library: str | None) -> Synthesis | str:
    """The synthesis, or why it failed (provider errors do not pickle)."""
    try:
        return synthesis(text, voice, library)
    except ProviderError as e:
        return e.detail


# ---- in the server -----------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class _Slot:
    executor: ProcessPoolExecutor | None = None
    ready: Future[int] | None = None  # the process is up and espeak loaded: its pid
    pid: int | None = None


def _stop(executor: ProcessPoolExecutor) -> None:
    """Kill the slot's process (a running job cannot be cancelled otherwise) and let go."""
    # The executor keeps its processes private; Python 3.14 adds kill_workers() for this.
    for process in list((executor._processes or {}).values()):
        with contextlib.suppress(Exception):
            process.kill()
    executor.shutdown(wait=False, cancel_futures=True)


def default_workers() -> int:
    """One core is the event loop's; the rest may speak (at least one worker)."""
    return max(1, (os.cpu_count() or 1) - 1)


@dataclass(eq=False)
class ProcessPoolTTS:
    """A :class:`~pipeline.tts.base.TTSProvider` running espeak-ng in ``workers`` processes.

    ``queue`` bounds the sentences waiting for a worker (a sentence takes ~20-80 ms of CPU), so
    speech is at most that far behind before replies go text-only; ``timeout_s`` bounds one
    sentence once a worker has it. A worker starts on its first sentence (~0.3 s on a quiet
    machine, paid by that sentence's audio, never by text), from the event loop's thread,
    which lives as long as the server (the parent-death signal follows the thread).
    """

    workers: int = 1
    queue: int = 32
    timeout_s: float = 10.0
    library: str | None = None
    name: str = PROVIDER
    _slots: list[_Slot] = field(default_factory=list)
    _idle: list[_Slot] = field(default_factory=list)
    _free: asyncio.Semaphore | None = None
    _waiting: int = 0
    _closed: bool = False
    refused: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REFUSALS, 0))

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError("ProcessPoolTTS needs at least one worker")
        self._slots = [_Slot() for _ in range(self.workers)]
        self._idle = list(self._slots)

    @property
    def running(self) -> int:
        return self.workers - len(self._idle)

    @property
    def waiting(self) -> int:
        return self._waiting

    def worker_pids(self) -> list[int]:
        return [slot.pid for slot in self._slots if slot.pid is not None]

    async def list_voices(self) -> list[VoiceInfo]:
        return await EspeakTTS(self.library).list_voices()  # a catalogue read: no worker

    async def synthesize(self, text: str, voice: VoiceSettings) -> Synthesis:
        if self._closed:
            raise ProviderUnavailable(PROVIDER, "speech synthesis is shutting down")
        free = self._free or asyncio.Semaphore(self.workers)
        self._free = free
        if free.locked() and self._waiting >= self.queue:
            self.refused[QUEUE_FULL] += 1
            raise SpeechBusy(PROVIDER, f"{self._waiting} sentences already wait for speech")
        self._waiting += 1
        try:
            await free.acquire()
        finally:
            self._waiting -= 1
        slot = self._idle.pop()
        try:
            job = await self._submit(slot, text, voice)
        except BaseException:
            self._release(slot, None)
            raise
        # The slot is free when its job ends, even if this caller goes away first (barge-in):
        # a sentence is short, and stopping its process would cost a restart. Once only: a job
        # that timed out frees its slot at once, and its late end must not touch the slot's
        # next process.
        released = False

        def release(finished: asyncio.Future[Synthesis | str] | None) -> None:
            nonlocal released
            if not released:
                released = True
                self._release(slot, finished)

        done = asyncio.wrap_future(job)
        done.add_done_callback(release)
        try:
            async with asyncio.timeout(self.timeout_s):
                result = await asyncio.shield(done)
        except TimeoutError:
            self.refused[TIMEOUT] += 1
            self._discard(slot)
            release(None)
            raise SpeechWorkerLost(PROVIDER, f"no speech within {self.timeout_s:g} s") from None
        except BrokenProcessPool:
            log.warning("speech worker %s stopped mid-sentence; starting another", slot.pid)
            self.refused[WORKER_LOST] += 1
            raise SpeechWorkerLost(PROVIDER, "the speech worker stopped") from None
        if isinstance(result, str):
            raise ProviderBadResponse(PROVIDER, result)
        return result

    def _release(self, slot: _Slot, finished: asyncio.Future[Synthesis | str] | None) -> None:
        if finished is not None and not finished.cancelled():
            if isinstance(finished.exception(), BrokenProcessPool):
                self._discard(slot)  # its process is gone: the next sentence starts another
        self._idle.append(slot)
        if self._free is not None:
            self._free.release()

    def _launch(self, slot: _Slot) -> None:
        if slot.executor is None and not self._closed:
            slot.executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(os.getpid(), self.library),
            )
            slot.ready = slot.executor.submit(_ping)

    async def _submit(
        self, slot: _Slot, text: str, voice: VoiceSettings
    ) -> Future[Synthesis | str]:
        """Hand the sentence to the slot's process once it is up; to a fresh one if the last
        one broke while idle or could not start."""
        for attempt in (1, 2):
            self._launch(slot)
            if slot.executor is None or slot.ready is None:
                raise ProviderUnavailable(PROVIDER, "speech synthesis is shutting down")
            try:
                slot.pid = await asyncio.wrap_future(slot.ready)
                if slot.executor is None:
                    raise ProviderUnavailable(PROVIDER, "speech synthesis is shutting down")
                return slot.executor.submit(_synthesize, text, voice, self.library)
            except BrokenProcessPool:
                self._discard(slot)
                if attempt == 2:
                    self.refused[WORKER_LOST] += 1
                    raise SpeechWorkerLost(PROVIDER, "the speech worker cannot start") from None
        raise AssertionError("unreachable")

    def _discard(self, slot: _Slot) -> None:
        if slot.executor is not None:
            _stop(slot.executor)
        slot.executor, slot.ready, slot.pid = None, None, None

    async def aclose(self) -> None:
        """Stop every worker (a sentence in flight fails as unavailable)."""
        self._closed = True
        executors = [slot.executor for slot in self._slots if slot.executor is not None]
        for slot in self._slots:
            self._discard(slot)
        for executor in executors:
            await asyncio.to_thread(executor.shutdown, wait=True)
