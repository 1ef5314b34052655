"""Offline speech (espeak-ng) in worker processes, so synthesis never takes the event loop's CPU.

In the server's own process, espeak-ng cost ~0.2 s of CPU per reply on the event loop's core:
80 people sending at once waited for each other's synthesis before their first text appeared
(first delta p99 4.7 s). Here it runs in the worker slots of
:class:`~pipeline.process_slots.ProcessSlots`, each process loading the library once; a sentence
that overruns ``timeout_s`` is stopped by killing exactly its own process, and a worker that
dies is replaced on the next sentence.

    admitted = running (<= workers) + waiting (<= queue); beyond that: SpeechBusy at once

The reply pipeline turns :class:`~pipeline.tts.base.SpeechBusy` into a text-only rest of the
reply and :class:`~pipeline.tts.base.SpeechWorkerLost` into one sentence without audio, each
said once with ``ReplyDegraded`` (``SPEECH_BUSY``); text deltas never wait for either.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pipeline.errors import ProviderBadResponse, ProviderError, ProviderUnavailable
from pipeline.process_slots import JobTimedOut, ProcessSlots, SlotsBusy, SlotsClosed, WorkerLost
from pipeline.tts.base import SpeechBusy, SpeechWorkerLost, Synthesis, VoiceInfo, VoiceSettings
from pipeline.tts.espeak import PROVIDER, EspeakTTS, synthesis

# ---- in the worker process -------------------------------------------------------------


def _warm_up(library: str | None) -> None:
    synthesis("ready", VoiceSettings(), library)  # loads the library and a voice once


def _synthesize(
    engine: Callable[..., Synthesis], text: str, voice: VoiceSettings, *args: Any
) -> Synthesis | str:
    """The synthesis, or why it failed (provider errors do not pickle)."""
    try:
        return engine(text, voice, *args)
    except ProviderError as e:
        return e.detail


# ---- in the server -----------------------------------------------------------------------


def default_workers() -> int:
    """One core is the event loop's; the rest may speak (at least one worker)."""
    return max(1, (os.cpu_count() or 1) - 1)


@dataclass(eq=False)
class SpeechSlots(ProcessSlots[Synthesis | str]):
    """Worker slots for an offline voice: :meth:`speak` says what the pool's errors mean."""

    finish_abandoned: ClassVar[bool] = True
    name: str = PROVIDER

    async def speak(self, engine: Callable[..., Synthesis], text: str, *args: Any) -> Synthesis:
        """``engine(text, *args)`` (module level: it pickles) in a worker."""
        try:
            result = await self.run(_synthesize, engine, text, *args)
        except SlotsBusy as e:
            raise SpeechBusy(self.name, f"{e.waiting} sentences already wait for speech") from None
        except SlotsClosed:
            raise ProviderUnavailable(self.name, "speech synthesis is shutting down") from None
        except JobTimedOut:
            raise SpeechWorkerLost(self.name, f"no speech within {self.timeout_s:g} s") from None
        except WorkerLost as e:
            raise SpeechWorkerLost(self.name, f"the speech worker stopped: {e}") from None
        if isinstance(result, str):
            raise ProviderBadResponse(self.name, result)
        return result


@dataclass(eq=False)
class ProcessPoolTTS(SpeechSlots):
    """A :class:`~pipeline.tts.base.TTSProvider` running espeak-ng in ``workers`` processes.

    ``queue`` bounds the sentences waiting for a worker (a sentence takes ~20-80 ms of CPU), so
    speech is at most that far behind before replies go text-only; ``timeout_s`` bounds one
    sentence once a worker has it. A worker starts on its first sentence (~0.3 s on a quiet
    machine, paid by that sentence's audio, never by text). A sentence whose caller goes away
    (barge-in) runs to its end: it is short, and stopping its process would cost a restart.
    """

    workers: int = 1
    queue: int = 32
    timeout_s: float = 10.0
    library: str | None = None

    def worker_init(self) -> tuple[Callable[..., None], tuple[Any, ...]]:
        return _warm_up, (self.library,)

    async def list_voices(self) -> list[VoiceInfo]:
        return await EspeakTTS(self.library).list_voices()  # a catalogue read: no worker

    async def synthesize(self, text: str, voice: VoiceSettings) -> Synthesis:
        return await self.speak(synthesis, text, voice, self.library)
