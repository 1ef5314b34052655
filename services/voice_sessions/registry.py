"""A process's voice sessions: who may open one, finding a session a chunk names, and the
limits (sessions per person, the plan's voice minutes, an idle session closed).

A session lives in the process that started it (its audio, VAD state and STT jobs are
there). Its id names that process (``vs_<process>_<random>``): a chunk sent to another process
answers CONFLICT with reason VOICE_SESSION_ELSEWHERE (send chunks on the socket that started
the session; after a reconnect, start a new one), and an id this process does not know, or
another token holder's (a person's and each of their devices' are apart), answers NOT_FOUND.
The per-person limit counts a person's sessions on every process (their devices' included) as
leases in the shared store (pipeline/leases: Redis when configured, else this process's memory):
a session renews its lease while it lives and releases it as it closes, before its closing is
published, so a client that saw it close may start another anywhere. A process that dies
without releasing stops counting after ``lease_s``. When the store cannot be reached the limit
falls back to this process's sessions (logged): a Redis outage does not stop people talking.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field

from pipeline.broadcast.errors import LogUnavailable
from pipeline.leases.base import Leases, LeasesUnavailable
from services import conversations, voices
from services.auth.revocations import ACCOUNT_DELETED, Ended
from services.channels import conversation_channel
from services.erasure import author_marker
from services.errors import BadUserInput, Conflict, NotFound, RateLimited
from services.identity import Viewer
from services.voice_sessions.chunks import Playback, decode_pcm
from services.voice_sessions.config import SessionConfig, SessionDeps
from services.voice_sessions.session import VoiceSession

log = logging.getLogger("holomate.voice")

ELSEWHERE = "VOICE_SESSION_ELSEWHERE"
PREFIX = "vs"


@dataclass(frozen=True, slots=True)
class VoiceConfig:
    session: SessionConfig = field(default_factory=SessionConfig)
    sessions_per_person: int = 2
    # How long a session's place outlives a process that died holding it; renewed every third.
    lease_s: float = 30.0


class VoiceSessions:
    def __init__(self, config: VoiceConfig, deps: SessionDeps, leases: Leases) -> None:
        self.config = config
        self.deps = deps
        self.leases = leases
        self.process = secrets.token_hex(4)
        self._sessions: dict[str, VoiceSession] = {}
        self._stopping = False
        self._renewing: asyncio.Task[None] | None = None

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
            voice_provider = await voices.provider_of(session, conversation.companion_id)
        session_id = f"{PREFIX}_{self.process}_{secrets.token_urlsafe(12)}"
        if not await self._take_place(viewer.user_id, session_id):
            raise RateLimited(
                f"At most {self.config.sessions_per_person} voice sessions at once; end one first",
                5,
            )
        try:
            # The session's events belong to no message, so no message's pointer brings the
            # companion's holograms to them: one pointer now, before its first event.
            await self.deps.replies.publisher.announce(conversation_id)
        except BaseException:
            await self._free_place(viewer.user_id, session_id)
            raise
        voice = VoiceSession(
            session_id, viewer, conversation_id, self.config.session, self.deps, self._forget
        )
        self._sessions[session_id] = voice
        # Offline engines start their worker processes on their first job (1-3 s each): start
        # them with the session, or the first turn's transcript and reply would wait for them.
        self.deps.replies.providers.start_workers(voice_provider)
        self._keep_renewing()
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
        if self._renewing is not None:
            self._renewing.cancel()
            await asyncio.gather(self._renewing, return_exceptions=True)
        await self.leases.aclose()

    def sessions_ended(self, ended: Ended) -> None:
        """Logins or devices ended (Revocations, on every process): their voice sessions end
        now, not at the idle timeout; an erased person's publish nothing more."""
        for voice in [v for v in self._sessions.values() if ended.covers(v.viewer)]:
            if ended.cause == ACCOUNT_DELETED:
                voice.drop()
            else:
                voice.cut(ended.cause, ended.reason)

    def user_erased(self, user_id: int) -> None:
        """An erased person's sessions stop at once: nothing more they said is transcribed,
        sent or published (called on every process, like the rest of erasure)."""
        for voice in [v for v in self._sessions.values() if v.viewer.user_id == user_id]:
            voice.drop()

    async def _forget(self, voice: VoiceSession) -> None:
        self._sessions.pop(voice.id, None)
        await self._free_place(voice.viewer.user_id, voice.id)
        if voice.erased:
            await self._scrub(voice)

    async def _scrub(self, voice: VoiceSession) -> None:
        """Erasure redacts the person's events from the replay log while their sessions stop
        (on this process or another): a partial published in between would stay. So once its
        jobs have stopped, the session's own process redacts its conversation again."""
        await voice.settled()
        channel = conversation_channel(voice.conversation_id)
        try:
            await self.deps.replies.hub.erase([], [channel], author_marker(voice.viewer.user_id))
        except LogUnavailable:
            log.exception("voice session %s: the replay log kept its last events", voice.id)

    # ---- places under the per-person limit, shared by every process ----------------------

    async def _take_place(self, user_id: int, session_id: str) -> bool:
        limit = self.config.sessions_per_person
        try:
            return await self.leases.acquire(_pool(user_id), session_id, limit, self.config.lease_s)
        except LeasesUnavailable as e:
            log.warning("voice sessions counted on this process only: %s", e)
            return sum(1 for s in self._sessions.values() if s.viewer.user_id == user_id) < limit

    async def _free_place(self, user_id: int, session_id: str) -> None:
        try:
            await self.leases.release(_pool(user_id), session_id)
        except LeasesUnavailable as e:  # it expires after lease_s
            log.warning("voice session %s: its place was not released: %s", session_id, e)

    def _keep_renewing(self) -> None:
        if self._renewing is None or self._renewing.done():
            self._renewing = asyncio.create_task(self._renew(), name="voice-leases")

    async def _renew(self) -> None:
        """Every third of ``lease_s``, while this process holds sessions."""
        while self._sessions:
            await asyncio.sleep(self.config.lease_s / 3)
            held = [(_pool(v.viewer.user_id), v.id) for v in self._sessions.values()]
            try:
                await self.leases.renew(held, self.config.lease_s)
            except LeasesUnavailable as e:
                log.warning("voice session places not renewed: %s", e)


def _pool(user_id: int) -> str:
    return f"voice:{user_id}"


def _same_holder(owner: Viewer, viewer: Viewer) -> bool:
    """The token that started a session is the one that streams into it: a device never
    reaches its owner's session, the owner never a device's, nor one device another's."""
    return owner.user_id == viewer.user_id and owner.device_id == viewer.device_id
