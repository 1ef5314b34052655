"""Offline speech-to-text in worker processes, so decoding never holds the server's GIL.

PocketSphinx decodes an utterance in one C call that keeps the GIL: in a thread of the server
it stalled every other request for as long as it ran (~15 s for a 60 s message on a quiet
machine, minutes for a 5-minute one on a busy one). Here it runs in the worker slots of
:class:`~pipeline.process_slots.ProcessSlots`, each process loading the decoder once and keeping
it; a job that overruns its timeout, or is abandoned, is stopped by killing exactly its own
process, so later messages never see a broken pool.

    admitted = running (<= workers) + waiting (<= queue); beyond that: STTBusy at once

``running``, ``waiting`` and ``refused`` (by :data:`~pipeline.process_slots.REFUSALS` reason)
are read by /metrics.

Errors, in the provider tree: :class:`STTBusy` (rate limited: retry after a few seconds),
:class:`STTTimedOut` and :class:`STTWorkerLost` (unavailable, retryable), and
:class:`~pipeline.audio.UndecodableAudio` from the worker (not retryable).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.audio import UndecodableAudio
from pipeline.errors import ProviderRateLimited, ProviderUnavailable
from pipeline.process_slots import JobTimedOut, ProcessSlots, SlotsBusy, SlotsClosed, WorkerLost
from pipeline.stt.base import Transcript
from pipeline.stt.pocketsphinx_stt import PROVIDER, PocketsphinxSTT


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


def _load_engine() -> None:
    global _engine
    _engine = PocketsphinxSTT()
    _engine.warm_up()


def _transcribe(audio: bytes, mime_type: str, language: str) -> Transcript | str:
    """A transcript, or the reason the audio is undecodable (provider errors do not pickle)."""
    assert _engine is not None, "the worker initializer loads the engine"
    try:
        return _engine.transcribe_now(audio, mime_type, language)
    except UndecodableAudio as e:
        return e.detail


# ---- in the server -----------------------------------------------------------------------


@dataclass(eq=False)
class ProcessPoolSTT(ProcessSlots[Transcript | str]):
    """An :class:`~pipeline.stt.base.STTProvider` running PocketSphinx in ``workers`` processes.

    ``timeout_s`` bounds the decoding of one message, from the moment a ready worker takes it
    (starting a process, ~1-3 s, and waiting in line, bounded by ``queue``, are not counted).
    A message whose request goes away stops its worker, freeing the CPU it was using.
    ``running`` counts the messages a worker has taken (being decoded, or waiting for their
    worker to start); ``worker_pids()`` the processes that are up (each starts on its first).
    """

    workers: int = 1
    queue: int = 4
    timeout_s: float = 300.0
    retry_after_s: int = 5
    name: str = PROVIDER

    def worker_init(self) -> tuple[Callable[..., None], tuple[Any, ...]]:
        return _load_engine, ()

    async def transcribe(self, audio: bytes, mime_type: str, language: str = "en") -> Transcript:
        if self._closed:
            raise ProviderUnavailable(PROVIDER, "speech-to-text is shutting down")
        if not language.lower().startswith("en"):  # refused here: this error does not pickle
            raise ProviderUnavailable(
                PROVIDER, f"only the en-us model is installed, not {language!r}"
            )
        try:
            result = await self.run(_transcribe, audio, mime_type, language)
        except SlotsBusy:
            raise STTBusy(self.retry_after_s) from None
        except SlotsClosed:
            raise ProviderUnavailable(PROVIDER, "speech-to-text is shutting down") from None
        except JobTimedOut:
            raise STTTimedOut(
                PROVIDER, f"no transcript within {self.timeout_s:g} s; the job was stopped"
            ) from None
        except WorkerLost:
            raise STTWorkerLost(PROVIDER, "the speech-to-text worker stopped") from None
        if isinstance(result, str):
            raise UndecodableAudio(PROVIDER, result)
        return result
