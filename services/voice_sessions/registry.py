"""A process's voice sessions: who may open one, finding a session a chunk names, and the
limits (sessions per person, the plan's voice minutes, an idle session closed).

A session lives in the process that started it (its audio, VAD state and STT jobs are
there). Its id names that process (``vs_<process>_<random>``): a chunk sent to another process
answers CONFLICT with reason VOICE_SESSION_ELSEWHERE (send chunks on the socket that started
the session; after a reconnect, start a new one), and an id this process does not know, or
another token holder's (a person's and each of their devices' are apart), answers NOT_FOUND.
The per-person limit counts this process's sessions, a person's devices' included.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass, field

from pipeline.audio import pcm16_to_wav
from pipeline.vad import SAMPLE_RATE
from services import conversations
from services.errors import BadUserInput, Conflict, NotFound, RateLimited
from services.identity import Viewer
from services.voice_sessions.chunks import Playback, decode_pcm
from services.voice_sessions.config import SessionConfig, SessionDeps
from services.voice_sessions.session import VoiceSession

ELSEWHERE = "VOICE_SESSION_ELSEWHERE"
PREFIX = "vs"


@dataclass(frozen=True, slots=True)
class VoiceConfig:
    session: SessionConfig = field(default_factory=SessionConfig)
    sessions_per_person: int = 2


class VoiceSessions:
    def __init__(self, config: VoiceConfig, deps: SessionDeps) -> None:
        self.config = config
        self.deps = deps
        self.process = secrets.token_hex(4)
        self._sessions: dict[str, VoiceSession] = {}
        self._stopping = False
        self._warming: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._sessions)

    async def start(self, viewer: Viewer, conversation_id: int) -> VoiceSession:
        if self._stopping:
            raise RateLimited("The server is restarting; start the session again", 2)
        async with self.deps.sessionmaker() as session:
            conversation = await conversations.get_visible(session, viewer, conversation_id)
            if conversation.archived_at is not None:
                raise BadUserInput("This conversation is archived", field="conversationId")
            if self.deps.voice_check is not None:  # a month with no voice left: refused now
                await self.deps.voice_check(session, viewer.user_id, 0)
        mine = sum(1 for s in self._sessions.values() if s.viewer.user_id == viewer.user_id)
        if mine >= self.config.sessions_per_person:
            raise RateLimited(
                f"At most {self.config.sessions_per_person} voice sessions at once; end one first",
                5,
            )
        # The session's events belong to no message, so no message's pointer brings the
        # companion's holograms to them: one pointer now, before its first event.
        await self.deps.replies.publisher.announce(conversation_id)
        session_id = f"{PREFIX}_{self.process}_{secrets.token_urlsafe(12)}"
        voice = VoiceSession(
            session_id, viewer, conversation_id, self.config.session, self.deps, self._forget
        )
        self._sessions[session_id] = voice
        self._warm()
        return voice

    def get(self, viewer: Viewer, session_id: str) -> VoiceSession:
        prefix, _, rest = session_id.partition("_")
        process, _, token = rest.partition("_")
        well_formed = prefix == PREFIX and len(process) == 8 and bool(token)
        if well_formed and process != self.process:
            raise Conflict(
                "This voice session belongs to another server process: send its chunks on "
                "the socket that started it, or start a new session",
                reason=ELSEWHERE,
            )
        voice = self._sessions.get(session_id)
        if voice is None or voice.closed or not _same_holder(voice.viewer, viewer):
            raise NotFound("Voice session")
        return voice

    def send(
        self, viewer: Viewer, session_id: str, seq: int, audio: str, playing: Playback | None
    ) -> tuple[VoiceSession, int]:
        voice = self.get(viewer, session_id)
        pcm = decode_pcm(audio, self.config.session.max_chunk_bytes)
        return voice, voice.accept(seq, pcm, playing)

    async def end(self, viewer: Viewer, session_id: str) -> VoiceSession:
        voice = self.get(viewer, session_id)
        voice.end()
        return voice

    async def stop(self) -> None:
        self._stopping = True
        sessions = list(self._sessions.values())
        for voice in sessions:
            voice.task.cancel()
        await asyncio.gather(*(v.task for v in sessions), return_exceptions=True)
        if self._warming is not None:
            self._warming.cancel()
            await asyncio.gather(self._warming, return_exceptions=True)

    def user_erased(self, user_id: int) -> None:
        """An erased person's sessions stop at once: nothing more they said is transcribed,
        sent or published (called on every process, like the rest of erasure)."""
        for voice in [v for v in self._sessions.values() if v.viewer.user_id == user_id]:
            voice.drop()

    def _warm(self) -> None:
        """Offline STT starts its worker process on its first job (1-3 s): start it with the
        session, not with the first partial transcript (which would come too late)."""
        pids = getattr(self.deps.stt, "worker_pids", None)
        if callable(pids) and not pids() and (self._warming is None or self._warming.done()):
            self._warming = asyncio.create_task(self._warm_up())

    async def _warm_up(self) -> None:
        with contextlib.suppress(Exception):
            await self.deps.stt.transcribe(pcm16_to_wav(bytes(3200), SAMPLE_RATE), "audio/wav")

    def _forget(self, voice: VoiceSession) -> None:
        self._sessions.pop(voice.id, None)


def _same_holder(owner: Viewer, viewer: Viewer) -> bool:
    """The token that started a session is the one that streams into it: a device never
    reaches its owner's session, the owner never a device's, nor one device another's."""
    return owner.user_id == viewer.user_id and owner.device_id == viewer.device_id
