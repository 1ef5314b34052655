"""Offline speech-to-text (Whisper or PocketSphinx) in worker processes, off the event loop.

Whisper (faster-whisper) decodes in C++ threads (one per worker: :data:`WORKER_THREADS`),
holding ~400 MB; PocketSphinx decodes an utterance in one C call that keeps the GIL: in a thread
of the server it stalled every other request for as long as it ran (~15 s for a 60 s message on a
quiet machine, minutes for a 5-minute one on a busy one). Here either runs in the worker slots of
:class:`~pipeline.process_slots.ProcessSlots` (niced), each process loading its model once and
keeping it; a job that overruns its timeout, or is abandoned, is stopped by killing exactly its own
process, so later messages never see a broken pool.

    admitted = running (<= workers) + waiting (<= queue); beyond that: STTBusy at once

``running``, ``waiting`` and ``refused`` (by :data:`~pipeline.process_slots.REFUSALS` reason)
are read by /metrics.

Errors, in the provider tree: :class:`STTBusy` (rate limited: retry after a few seconds),
:class:`STTTimedOut`, :class:`STTWorkerLost` and :class:`STTStopping` (unavailable, retryable), and
:class:`~pipeline.audio.UndecodableAudio` from the worker (not retryable).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pipeline.audio import UndecodableAudio, pcm16_to_wav
from pipeline.errors import ProviderRateLimited, ProviderUnavailable
from pipeline.process_slots import JobTimedOut, ProcessSlots, SlotsBusy, SlotsClosed, WorkerLost
from pipeline.stt import pocketsphinx_stt, whisper_stt
from pipeline.stt.base import Transcript
from pipeline.stt.pocketsphinx_stt import PocketsphinxSTT
from pipeline.stt.whisper_stt import WhisperSTT, whisper_language

Engine = Literal["pocketsphinx", "whisper"]


class STTBusy(ProviderRateLimited):
    """Every worker is busy and the waiting line is full."""

    def __init__(self, retry_after_s: int, provider: str = pocketsphinx_stt.PROVIDER) -> None:
        super().__init__(provider, "every speech-to-text worker is busy and the queue is full")
        self.retry_after_s = retry_after_s


class STTTimedOut(ProviderUnavailable):
    """Decoding outlived its timeout; its worker was stopped."""


class STTWorkerLost(ProviderUnavailable):
    """The worker process died mid-job (killed, out of memory); a new one replaces it."""


class STTStopping(ProviderUnavailable):
    """The server is stopping its speech-to-text (a restart, a deploy): a message being
    decoded then may see its worker stopped or the pool closed first; both say this."""


# ---- in the worker process -------------------------------------------------------------

_engine: PocketsphinxSTT | WhisperSTT | None = None


def _load_engine(engine: Engine, model_dir: str, threads: int) -> None:
    global _engine
    if engine == "whisper":
        _engine = WhisperSTT(Path(model_dir), threads=threads)
    else:
        _engine = PocketsphinxSTT()
    _engine.warm_up()


def _transcribe(audio: bytes, mime_type: str, language: str) -> Transcript | str:
    """A transcript, or the reason the audio is undecodable (provider errors do not pickle)."""
    assert _engine is not None, "the worker initializer loads the engine"
    try:
        return _engine.transcribe_now(audio, mime_type, language)
    except UndecodableAudio as e:
        return e.detail


def _transcribe_pcm(pcm: bytes, language: str) -> Transcript | str:
    assert _engine is not None, "the worker initializer loads the engine"
    if isinstance(_engine, WhisperSTT):
        return _engine.transcribe_pcm_now(pcm, language)
    return _transcribe(pcm16_to_wav(pcm[: len(pcm) - len(pcm) % 2], 16000), "audio/wav", language)


# ---- in the server -----------------------------------------------------------------------


# Whisper base's utterance (2.4 s of speech, 8 s window, beam 5) took as long on two threads as
# on one (470-600 ms, 2-core EPYC), and CTranslate2's two threads slowed down whenever the server
# took the other core: in a voice session its early final landed 80 ms later (bench.voice).
WORKER_THREADS = 1


@dataclass(eq=False)
class ProcessPoolSTT(ProcessSlots[Transcript | str]):
    """An :class:`~pipeline.stt.base.STTProvider` running ``engine`` in ``workers`` processes.

    ``timeout_s`` bounds the decoding of one message, from the moment a ready worker takes it
    (starting a process, ~1-3 s, and waiting in line, bounded by ``queue``, are not counted).
    A message whose request goes away stops its worker, freeing the CPU it was using.
    ``running`` counts the messages a worker has taken (being decoded, or waiting for their
    worker to start); ``worker_pids()`` the processes that are up (each starts on its first).
    Whisper decodes on :data:`WORKER_THREADS` per worker: more concurrent messages need more
    workers, not threads.
    """

    workers: int = 1
    queue: int = 4
    timeout_s: float = 300.0
    retry_after_s: int = 5
    engine: Engine = "pocketsphinx"
    model_dir: Path = whisper_stt.DEFAULT_MODEL_DIR
    name: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.name = self.name or self.engine

    def worker_init(self) -> tuple[Callable[..., None], tuple[Any, ...]]:
        return _load_engine, (self.engine, str(self.model_dir.resolve()), WORKER_THREADS)

    async def transcribe(self, audio: bytes, mime_type: str, language: str = "en") -> Transcript:
        return await self._decode(_transcribe, audio, mime_type, language)

    async def transcribe_pcm(self, pcm: bytes, language: str = "en") -> Transcript:
        """16-bit little-endian mono PCM at 16 kHz as it is (a streamed session's buffer)."""
        return await self._decode(_transcribe_pcm, pcm, language)

    async def _decode(self, job: Callable[..., Transcript | str], *args: Any) -> Transcript:
        if self._closed:
            raise self._stopping()
        self._check_language(args[-1])  # refused here: the engine's error does not pickle
        try:
            result = await self.run(job, *args)
        except SlotsBusy:
            raise STTBusy(self.retry_after_s, self.name) from None
        except SlotsClosed:
            raise self._stopping() from None
        except JobTimedOut:
            raise STTTimedOut(
                self.name, f"no transcript within {self.timeout_s:g} s; the job was stopped"
            ) from None
        except WorkerLost:
            if self._closed:  # stopped by the shutdown, not lost
                raise self._stopping() from None
            raise STTWorkerLost(self.name, "the speech-to-text worker stopped") from None
        if isinstance(result, str):
            raise UndecodableAudio(self.name, result)
        return result

    def _stopping(self) -> STTStopping:
        return STTStopping(self.name, "speech-to-text is shutting down")

    def _check_language(self, language: str) -> None:
        if self.engine == "whisper":
            if whisper_language(language) is None:
                raise ProviderUnavailable(
                    self.name, f"Whisper does not know the language {language!r}"
                )
        elif not language.lower().startswith("en"):
            raise ProviderUnavailable(
                self.name, f"only the en-us model is installed, not {language!r}"
            )
