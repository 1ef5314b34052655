"""Voice sessions as the settings configure them (HOLOMATE_VOICE_*)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.settings import Settings
from pipeline.leases.factory import make_leases
from pipeline.vad import VadConfig
from services import quotas
from services.auth.revocations import Revocations
from services.replies import ReplyService
from services.voice_sessions import VoiceConfig, VoiceSessions
from services.voice_sessions.chunks import BYTES_PER_MS
from services.voice_sessions.config import SessionConfig, SessionDeps


def build_voice_sessions(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    replies: ReplyService,
    revocations: Revocations,
) -> VoiceSessions:
    session = SessionConfig(
        vad=VadConfig(
            min_speech_ms=settings.voice_min_speech_ms,
            end_silence_ms=settings.voice_end_silence_ms,
        ),
        barge_in_ms=settings.voice_barge_in_ms,
        partial_interval_ms=settings.voice_partial_interval_ms,
        draft_replies=settings.voice_draft_replies,
        idle_timeout_s=settings.voice_idle_timeout_s,
        max_chunk_bytes=settings.voice_max_chunk_ms * BYTES_PER_MS,
        burst_ms=settings.voice_burst_ms,
    )
    deps = SessionDeps(sessionmaker, replies, replies.providers.stt, quotas.check_can_use_voice)
    # Counted in the shared store (Redis when configured): the limit holds across processes.
    leases = make_leases(settings.shared_state, settings.broadcast_namespace)
    sessions = VoiceSessions(VoiceConfig(session, settings.voice_sessions_per_person), deps, leases)
    replies.erased_here.append(sessions.user_erased)
    revocations.on_ended.append(sessions.sessions_ended)
    return sessions
