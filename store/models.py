"""SQLAlchemy models for the ten entities of the product, plus auth bookkeeping.

Relationships are ``lazy="raise"``: every load is explicit (dataloaders or services), so an
accidental N+1 fails loudly instead of silently querying per row.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class MessageRole(enum.StrEnum):
    USER = "user"
    COMPANION = "companion"
    SYSTEM = "system"


class MessageStatus(enum.StrEnum):
    STREAMING = "streaming"
    COMPLETE = "complete"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


class ParticipantRole(enum.StrEnum):
    OWNER = "owner"
    MEMBER = "member"


class ExportStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    READY = "ready"
    FAILED = "failed"


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class UserPreference(TimestampMixin, Base):
    __tablename__ = "user_preferences"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    preferred_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    language: Mapped[str] = mapped_column(String(16), default="en")
    reply_length: Mapped[str] = mapped_column(String(16), default="medium")
    voice_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    topics_to_avoid: Mapped[list[str]] = mapped_column(JSON, default=list)
    speaking_device_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class RefreshToken(IdMixin, Base):
    __tablename__ = "refresh_tokens"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class VoiceProfile(IdMixin, TimestampMixin, Base):
    __tablename__ = "voice_profiles"

    owner_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    provider: Mapped[str] = mapped_column(String(32), default="espeak")
    voice_id: Mapped[str] = mapped_column(String(128), default="en-us")
    language: Mapped[str] = mapped_column(String(16), default="en")
    speed: Mapped[float] = mapped_column(Float, default=1.0)
    stability: Mapped[float] = mapped_column(Float, default=0.5)
    similarity: Mapped[float] = mapped_column(Float, default=0.75)


class CharacterAsset(IdMixin, TimestampMixin, Base):
    __tablename__ = "character_assets"

    owner_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    format: Mapped[str] = mapped_column(String(8), default="VRM")
    url: Mapped[str] = mapped_column(String(2048))
    rig: Mapped[str] = mapped_column(String(32), default="vrm")
    # VRM0 or VRM1: which preset names (A/Joy or aa/happy) the manifest's default maps use.
    vrm_version: Mapped[str] = mapped_column(String(4), default="VRM1", server_default="VRM1")
    viseme_map: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    emotion_map: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AnimationSequence(IdMixin, TimestampMixin, Base):
    __tablename__ = "animation_sequences"

    character_asset_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("character_assets.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    clip: Mapped[str] = mapped_column(String(256))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    loop: Mapped[bool] = mapped_column(Boolean, default=False)


class Companion(IdMixin, TimestampMixin, Base):
    __tablename__ = "companions"

    owner_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    persona: Mapped[str] = mapped_column(Text, default="")
    backstory: Mapped[str] = mapped_column(Text, default="")
    traits: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(16), default="en")
    greeting: Mapped[str] = mapped_column(Text, default="")
    # Character Card fields (services/character_cards.py maps cards to and from these).
    personality: Mapped[str] = mapped_column(Text, default="")
    scenario: Mapped[str] = mapped_column(Text, default="")
    example_dialogue: Mapped[str] = mapped_column(Text, default="")
    alternate_greetings: Mapped[list[str]] = mapped_column(JSON, default=list)
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    post_history_instructions: Mapped[str] = mapped_column(Text, default="")
    # What a card carried that has no column (creator, tags, unknown extensions...), kept so an
    # exported card gives back what was imported.
    card_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    picture_key: Mapped[str | None] = mapped_column(String(256), nullable=True)
    memory_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    voice_profile_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("voice_profiles.id", ondelete="SET NULL"), nullable=True
    )
    character_asset_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("character_assets.id", ondelete="SET NULL"), nullable=True
    )


class Conversation(IdMixin, TimestampMixin, Base):
    __tablename__ = "conversations"

    companion_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companions.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    title: Mapped[str] = mapped_column(String(200), default="")
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Older turns folded into a running summary once the history outgrows the prompt budget;
    # ``summary_through_id`` is the last message the summary covers.
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_through_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    summary_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ConversationParticipant(Base):
    __tablename__ = "conversation_participants"

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[ParticipantRole] = mapped_column(_enum(ParticipantRole))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Message(IdMixin, Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_id_id", "conversation_id", "id"),)

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    author_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    author_removed: Mapped[bool] = mapped_column(Boolean, default=False)
    role: Mapped[MessageRole] = mapped_column(_enum(MessageRole))
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MessageStatus] = mapped_column(_enum(MessageStatus))
    reply_to_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    audio: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The process producing a streaming reply, and until when it holds it (renewed by its
    # heartbeat; services/reply_leases.py). Cleared when the reply ends.
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, index=True
    )


class LorebookEntry(IdMixin, TimestampMixin, Base):
    """A Character Card ``character_book`` entry: its content joins the prompt when one of its
    keys appears in the recent messages (or always, when ``constant``)."""

    __tablename__ = "lorebook_entries"

    companion_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    secondary_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    content: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    constant: Mapped[bool] = mapped_column(Boolean, default=False)
    selective: Mapped[bool] = mapped_column(Boolean, default=False)
    case_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    insertion_order: Mapped[int] = mapped_column(Integer, default=100)
    priority: Mapped[int] = mapped_column(Integer, default=10)
    position: Mapped[str] = mapped_column(String(32), default="before_char")
    # The entry's other card fields (comment, id, unknown extensions), kept for round trips.
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MemoryOrigin(enum.StrEnum):
    EXTRACTED = "extracted"  # the offline extractor
    MODEL = "model"  # the language model, as structured output
    PERSON = "person"  # told through rememberMemory / updateMemory


class Memory(IdMixin, TimestampMixin, Base):
    """A short fact a companion remembers about one person, owned by that person."""

    __tablename__ = "memories"
    __table_args__ = (
        Index("ix_memories_owner_id_companion_id_id", "owner_id", "companion_id", "id"),
        Index("ix_memories_owner_id_companion_id_topic", "owner_id", "companion_id", "topic"),
    )

    owner_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    companion_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companions.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(32), default="fact")
    # What the memory is about, normalised ("name", "likes:coffee"): a new memory on the same
    # topic updates this one instead of piling up beside it (duplicates, contradictions).
    topic: Mapped[str | None] = mapped_column(String(160), nullable=True)
    importance: Mapped[float] = mapped_column(Float, default=0.5)
    origin: Mapped[MemoryOrigin] = mapped_column(_enum(MemoryOrigin))
    conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="SET NULL"), nullable=True
    )
    message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="SET NULL"), nullable=True
    )
    last_recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A float32 vector from the configured embedding provider, and which model made it.
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    embedding_model: Mapped[str | None] = mapped_column(String(128), nullable=True)


class HologramDevice(IdMixin, TimestampMixin, Base):
    __tablename__ = "hologram_devices"
    __table_args__ = (UniqueConstraint("owner_id", "serial"),)

    owner_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    model: Mapped[str] = mapped_column(String(80))
    serial: Mapped[str] = mapped_column(String(128))
    capabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    firmware: Mapped[str] = mapped_column(String(64), default="")
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    active_companion_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("companions.id", ondelete="SET NULL"), nullable=True
    )
    speaks: Mapped[bool] = mapped_column(Boolean, default=True)
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    volume: Mapped[float] = mapped_column(Float, default=1.0)
    asleep: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set by the socket that holds hologramEvents open, cleared by that same socket on close:
    # online = a session is set and last_seen_at is fresh (a crashed process goes stale).
    presence_session: Mapped[str | None] = mapped_column(String(32), nullable=True)


class PairingStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    CONSUMED = "consumed"  # the device token was handed out: the code is spent


class DevicePairing(IdMixin, Base):
    """One RFC 8628 device authorization: only hashes of the codes are stored."""

    __tablename__ = "device_pairings"

    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_code_hash: Mapped[str] = mapped_column(String(64), index=True)
    model: Mapped[str] = mapped_column(String(80))
    serial: Mapped[str] = mapped_column(String(128))
    capabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[PairingStatus] = mapped_column(_enum(PairingStatus))
    interval_s: Mapped[int] = mapped_column(Integer, default=5)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    owner_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    device_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("hologram_devices.id", ondelete="CASCADE"), nullable=True
    )


class PairingFailure(IdMixin, Base):
    """A wrong user code typed by an owner; recent ones rate-limit further guesses."""

    __tablename__ = "device_pairing_failures"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BillingSubscription(IdMixin, TimestampMixin, Base):
    """A user's paid plan; named so it never clashes with GraphQL's root ``Subscription``."""

    __tablename__ = "billing_subscriptions"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    plan: Mapped[str] = mapped_column(String(16), default="free")
    status: Mapped[str] = mapped_column(String(24), default="active")
    provider: Mapped[str] = mapped_column(String(16), default="local")
    customer_ref: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    subscription_ref: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    current_period_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    grace_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the provider made the last event applied to ``subscription_ref``: an older event of
    # the same subscription arriving later is not applied (state never goes back in time).
    state_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ReceivedBillingEvent(Base):
    """A provider event already applied: providers retry and replay, we apply each once."""

    __tablename__ = "billing_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # the provider's event id
    type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DataExport(IdMixin, TimestampMixin, Base):
    """One "download my data" job; the archive lives in blob storage under ``blob_key``."""

    __tablename__ = "data_exports"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ExportStatus] = mapped_column(_enum(ExportStatus))
    blob_key: Mapped[str | None] = mapped_column(String(256), nullable=True)
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
