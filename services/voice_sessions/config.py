"""What a voice session is configured with, and the collaborators it uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline.stt.base import STTProvider
from pipeline.vad import VadConfig
from services.replies import ReplyService
from services.voice_sessions.chunks import BYTES_PER_MS

# (session, person, extra ms) -> raises QuotaExceeded when the month's voice minutes cannot
# cover them (services/quotas.check_can_use_voice).
VoiceCheck = Callable[[AsyncSession, int, int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SessionConfig:
    vad: VadConfig = field(default_factory=VadConfig)
    barge_in_ms: int = 500  # voiced time over a playing reply that interrupts it
    partial_interval_ms: int = 1000  # of speech between partial transcripts; 0: none
    # A pause this long starts the final's transcription early; when the pause becomes the
    # end of the turn, it is already under way (0: start it at the end of the turn). Whisper
    # takes ~0.5 s for a sentence, so at 200 ms it often ended after the turn did (bench.voice:
    # speech-to-text -> message p50 314 ms; 100 ms: 131-197 ms).
    early_final_ms: int = 100
    # The early final's transcript, still in that pause, starts the reply's text (pipeline/llm/
    # draft.py): a turn that ends there has its reply's first sentence written already.
    draft_replies: bool = True
    idle_timeout_s: float = 10.0  # no chunk for this long closes the session
    max_chunk_bytes: int = 500 * BYTES_PER_MS
    burst_ms: int = 2000  # audio a client may send ahead of real time
    queue_chunks: int = 50
    max_turn_ms: int = 60_000  # a turn this long ends even without a pause


@dataclass(slots=True)
class SttPace:
    """How long one transcription recently took, for every session of the process (a moving
    average): partial transcripts are only asked for while the engine keeps up."""

    ms: float | None = None

    def observe(self, took_ms: float) -> None:
        self.ms = took_ms if self.ms is None else 0.7 * self.ms + 0.3 * took_ms


@dataclass(slots=True)
class SessionDeps:
    sessionmaker: async_sessionmaker[AsyncSession]
    replies: ReplyService
    stt: STTProvider
    voice_check: VoiceCheck | None
    pace: SttPace = field(default_factory=SttPace)
