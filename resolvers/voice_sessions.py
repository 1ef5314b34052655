"""startVoiceSession, sendVoiceChunk, endVoiceSession: the microphone streamed over the socket
the app already holds (services/voice_sessions)."""

from __future__ import annotations

import strawberry

from context.request import Context
from context.state import AppState
from schema import ids
from schema.types.voice_session import VoiceChunkAck, VoicePlaybackInput, VoiceSession
from services.errors import BadUserInput
from services.voice_sessions import Playback, VoiceSessions
from services.voice_sessions import VoiceSession as Session
from services.voice_sessions.device import device_conversation


def _sessions(state: AppState) -> VoiceSessions:
    if state.voice_sessions is None:
        raise RuntimeError("voice sessions not started")
    return state.voice_sessions


def _shown(sessions: VoiceSessions, voice: Session) -> VoiceSession:
    config = sessions.config.session
    return VoiceSession.of(
        voice.id,
        voice.conversation_id,
        config.max_chunk_bytes // 32,
        config.vad.end_silence_ms,
        config.barge_in_ms,
        config.idle_timeout_s,
    )


@strawberry.type
class VoiceSessionMutation:
    @strawberry.mutation(
        description="Open a voice session on a conversation: QUOTA_EXCEEDED when the month's "
        "voice minutes are used up, RATE_LIMITED past the sessions a person may hold at once "
        "(a person's devices' included). A person names the conversation. A device token may "
        "leave it out: its owner's latest conversation with the companion assigned to it; "
        "another companion's is FORBIDDEN (reason NOT_ASSIGNED_COMPANION), and with no "
        "companion assigned CONFLICT (NO_COMPANION_ASSIGNED)."
    )
    async def start_voice_session(
        self, info: strawberry.Info[Context, None], conversation_id: strawberry.ID | None = None
    ) -> VoiceSession:
        viewer = info.context.any_viewer()
        named = None if conversation_id is None else ids.decode("Conversation", conversation_id)
        if viewer.is_device:
            async with info.context.app.sessionmaker() as session:
                named = await device_conversation(session, viewer, named)
        elif named is None:
            raise BadUserInput("Name the conversation to talk in", field="conversationId")
        sessions = _sessions(info.context.app)
        return _shown(sessions, await sessions.start(viewer, named))

    @strawberry.mutation(
        description="One chunk of the microphone: base64 of 16 kHz mono PCM16. Refusals: "
        "BAD_USER_INPUT with reason EMPTY_CHUNK, CHUNK_TOO_LARGE, BAD_BASE64, ODD_BYTE_COUNT, "
        "SEQ_REPEATED or SEQ_GAP; RATE_LIMITED faster than real time; NOT_FOUND for a closed "
        "session; CONFLICT (VOICE_SESSION_ELSEWHERE) on another server process."
    )
    def send_voice_chunk(
        self,
        info: strawberry.Info[Context, None],
        session_id: strawberry.ID,
        seq: int,
        audio: str,
        playing: VoicePlaybackInput | None = None,
    ) -> VoiceChunkAck:
        # Synchronous on purpose: a chunk is queued as the operation starts, so chunks
        # pipelined on one socket keep their order.
        viewer = info.context.any_viewer()  # a device's own sessions only (registry)
        if seq < 0:
            raise BadUserInput("Must be zero or more", field="seq")
        playback = None
        if playing is not None:
            if playing.heard_until_ms < 0:
                raise BadUserInput("Must be zero or more", field="playing.heardUntilMs")
            playback = Playback(ids.decode("Message", playing.message_id), playing.heard_until_ms)
        sessions = _sessions(info.context.app)
        _, received = sessions.send(viewer, str(session_id), seq, audio, playback)
        return VoiceChunkAck(seq=seq, received_ms=received)

    @strawberry.mutation(
        description="End the session; a turn in progress ends here and is answered."
    )
    async def end_voice_session(
        self, info: strawberry.Info[Context, None], session_id: strawberry.ID
    ) -> VoiceSession:
        viewer = info.context.any_viewer()
        sessions = _sessions(info.context.app)
        return _shown(sessions, await sessions.end(viewer, str(session_id)))
