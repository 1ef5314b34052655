"""Long-lived collaborators the app's lifespan builds once and every request shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.auth.policy import AuthPolicy

if TYPE_CHECKING:
    from pipeline.broadcast.hub import EventHub
    from pipeline.storage.base import BlobStorage
    from services.billing import Billing
    from services.devices.service import DeviceService
    from services.privacy import DataExports
    from services.rate_limits import Throttle
    from services.replies import ReplyService, UserErased
    from services.voice_sessions import VoiceSessions
    from services.voices import VoiceCatalog


@dataclass(slots=True)
class AppState:
    sessionmaker: async_sessionmaker[AsyncSession]
    policy: AuthPolicy
    introspection: bool = True
    storage: BlobStorage | None = None
    hub: EventHub | None = None
    replies: ReplyService | None = None
    voice_sessions: VoiceSessions | None = None  # streamed microphone audio (sendVoiceChunk)
    media_url_ttl_s: int = 3600
    public_base_url: str = ""
    billing: Billing | None = None
    exports: DataExports | None = None
    voices: VoiceCatalog | None = None
    devices: DeviceService | None = None
    throttle: Throttle | None = None  # rate limits; None: unlimited
    # After an account is erased: end the person's replies and sockets on every process.
    on_user_erased: UserErased | None = None
