"""Voice activity detection on streamed 16 kHz mono PCM16: where speech starts and where a turn
ends, decided from the audio's energy in 20 ms frames.

Energy is enough here: the audio reaching the server has been through the device's echo
cancellation and noise suppression (browsers' ``getUserMedia`` ``echoCancellation`` and
``noiseSuppression``, a hologram's AEC), so what is left above the noise floor is mostly the
person. A frame is voiced when it is ``margin_db`` above the tracked noise floor and above
``min_dbfs``; the floor follows quiet frames slowly and loud ones never, so a long utterance
does not become the floor. Pure Python on ``array('h')``: ~0.1 ms of CPU per 100 ms chunk, no
model to load (Silero-class neural VAD would be steadier in loud rooms; see README).

    idle --voiced frame--> candidate --voiced >= min_speech_ms--> speaking
    candidate --silence >= end_silence_ms--> idle (a click or a cough: nothing happened)
    speaking --silence >= end_silence_ms--> idle, emitting TurnEnd
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass

SAMPLE_RATE = 16_000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
FRAME_BYTES = FRAME_SAMPLES * 2


@dataclass(frozen=True, slots=True)
class VadConfig:
    min_speech_ms: int = 160  # voiced time before speech is believed (shorter: a click)
    end_silence_ms: int = 500  # silence after speech that ends the turn
    margin_db: float = 12.0  # above the noise floor
    min_dbfs: float = -50.0  # and above this, whatever the floor
    pre_roll_ms: int = 200  # audio kept from before the first voiced frame (soft onsets)


@dataclass(frozen=True, slots=True)
class SpeechStart:
    """Speech is believed; ``at_ms`` is its first voiced frame in the stream."""

    at_ms: int


@dataclass(frozen=True, slots=True)
class TurnEnd:
    """The person stopped: ``start_ms``..``end_ms`` (last voiced frame) in the stream, and how
    much of it was voiced."""

    start_ms: int
    end_ms: int
    voiced_ms: int


VadEvent = SpeechStart | TurnEnd


def frame_dbfs(frame: bytes) -> float:
    samples = array("h", frame)
    if not samples:
        return -120.0
    mean_square = sum(x * x for x in samples) / len(samples)
    return 10 * math.log10(mean_square / (32768.0 * 32768.0)) if mean_square > 0 else -120.0


class EnergyVad:
    """Feed PCM in any chunk size; events come out in stream order. Not thread-safe (one per
    voice session, used by that session's task only)."""

    def __init__(self, config: VadConfig | None = None) -> None:
        self.config = config or VadConfig()
        self._pending = b""
        self._frames = 0  # frames seen: the stream position is frames * FRAME_MS
        self._floor_db = -60.0
        self._start_ms: int | None = None  # first voiced frame of the candidate or speech
        self._last_voiced_ms = 0
        self._voiced_ms = 0
        self.speaking = False

    @property
    def position_ms(self) -> int:
        return self._frames * FRAME_MS

    @property
    def voiced_ms(self) -> int:
        """Voiced time of the current candidate or utterance (0 when idle)."""
        return self._voiced_ms if self._start_ms is not None else 0

    @property
    def start_ms(self) -> int | None:
        return self._start_ms

    @property
    def last_voiced_ms(self) -> int:
        """End of the last voiced frame: silence since then is ``position_ms`` minus it."""
        return self._last_voiced_ms

    def feed(self, pcm: bytes) -> list[VadEvent]:
        data = self._pending + pcm
        whole = len(data) - len(data) % FRAME_BYTES
        self._pending = data[whole:]
        events: list[VadEvent] = []
        for offset in range(0, whole, FRAME_BYTES):
            event = self._frame(data[offset : offset + FRAME_BYTES])
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> TurnEnd | None:
        """End the stream: a turn still open ends here."""
        if self.speaking and self._start_ms is not None:
            end = TurnEnd(self._start_ms, self._last_voiced_ms, self._voiced_ms)
            self._reset()
            return end
        self._reset()
        return None

    def _frame(self, frame: bytes) -> VadEvent | None:
        cfg = self.config
        now = self._frames * FRAME_MS
        self._frames += 1
        level = frame_dbfs(frame)
        voiced = level > max(self._floor_db + cfg.margin_db, cfg.min_dbfs)
        if not voiced:  # the floor follows quiet frames only (fast down, slow up)
            rate = 0.5 if level < self._floor_db else 0.02
            self._floor_db += rate * (level - self._floor_db)
        if voiced:
            if self._start_ms is None:
                self._start_ms, self._voiced_ms = now, 0
            self._voiced_ms += FRAME_MS
            self._last_voiced_ms = now + FRAME_MS
            if not self.speaking and self._voiced_ms >= cfg.min_speech_ms:
                self.speaking = True
                return SpeechStart(self._start_ms)
            return None
        if (
            self._start_ms is not None
            and now + FRAME_MS - self._last_voiced_ms >= cfg.end_silence_ms
        ):
            if self.speaking:
                end = TurnEnd(self._start_ms, self._last_voiced_ms, self._voiced_ms)
                self._reset()
                return end
            self._reset()  # a click or a cough that never became speech
        return None

    def _reset(self) -> None:
        self._start_ms = None
        self._voiced_ms = 0
        self.speaking = False
