"""The live stream of a conversation: the `ConversationEvent` union clients code against.

Every member carries ``cursor`` (pass it back as ``after`` to resume), ``conversationId``,
``messageId`` and ``at``. Within a reply, events arrive in order, and the ``VisemeFrames`` and
``EmotionChanged`` of an audio chunk arrive before that ``AudioChunk``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

import strawberry

from schema import ids
from schema.types.memory import Memory
from schema.types.message import Message
from store.models import Message as MessageRow
from store.models import MessageRole, MessageStatus


@strawberry.enum(description="The fixed set of emotions a companion shows.")
class Emotion(enum.Enum):
    neutral = "neutral"
    joy = "joy"
    sadness = "sadness"
    anger = "anger"
    fear = "fear"
    surprise = "surprise"
    disgust = "disgust"
    affection = "affection"
    thinking = "thinking"


@strawberry.type(description="One mouth shape; times in ms relative to its audio chunk.")
class VisemeFrame:
    viseme: str = strawberry.field(
        description="One of the 15 Oculus/Meta visemes: "
        "sil PP FF TH DD kk CH SS nn RR aa E ih oh ou"
    )
    start_ms: int
    end_ms: int
    weight: float


@strawberry.interface
class EventBase:
    cursor: str
    conversation_id: strawberry.ID
    message_id: strawberry.ID
    at: datetime


@strawberry.type
class MessagePosted(EventBase):
    message: Message


@strawberry.type
class ReplyStarted(EventBase):
    model: str = strawberry.field(
        description='The model answering, e.g. "SmolLM2-135M-Instruct", or "persona-responder" '
        "(the offline templates, not a language model)."
    )
    fallback: bool = strawberry.field(
        description="The configured model could not run (not installed, or its server stopped) "
        "and the persona responder answers instead."
    )


@strawberry.type
class MessageDelta(EventBase):
    seq: int
    text: str


@strawberry.type
class AudioChunk(EventBase):
    seq: int
    url: str = strawberry.field(description="Signed, expiring URL of this chunk's audio.")
    mime_type: str
    start_ms: int = strawberry.field(description="Start within the reply's audio.")
    duration_ms: int
    text: str


@strawberry.type
class VisemeFrames(EventBase):
    audio_seq: int
    frames: list[VisemeFrame]


@strawberry.type
class EmotionChanged(EventBase):
    emotion: Emotion
    intensity: float
    at_ms: int = strawberry.field(description="Position in the reply's audio.")


@strawberry.type
class ReplyCompleted(EventBase):
    message: Message


@strawberry.type
class ReplyInterrupted(EventBase):
    heard_text: str
    message: Message


@strawberry.type(
    description="The reply went on without part of what it normally carries; sent once per "
    "reply. reason AUDIO_STORAGE_FAILED (audio could not be stored), VOICE_CHECK_FAILED (voice "
    "minutes could not be checked) or SPEECH_BUSY (the server's speech synthesis is too far "
    "behind, or its worker stopped): chunks from here on may come without AudioChunk and "
    "VisemeFrames; text and emotions go on and the reply completes."
)
class ReplyDegraded(EventBase):
    reason: str
    detail: str


@strawberry.type
class ReplyFailed(EventBase):
    code: str
    detail: str
    retryable: bool = strawberry.field(
        description="Sending the message again may work (e.g. REPLY_OWNER_LOST: the server "
        "producing the reply stopped; PROVIDER_UNAVAILABLE)."
    )


@strawberry.type(
    description="The companion will remember something a person said (formed after the turn, "
    "or updated when it changes what was remembered): a screen can show 'Nova will remember "
    "that'. messageId is the person's message it came from."
)
class MemoryFormed(EventBase):
    memory: Memory


ConversationEvent = Annotated[
    MessagePosted
    | ReplyStarted
    | MessageDelta
    | AudioChunk
    | VisemeFrames
    | EmotionChanged
    | ReplyDegraded
    | ReplyCompleted
    | ReplyInterrupted
    | ReplyFailed
    | MemoryFormed,
    strawberry.union("ConversationEvent"),
]


def message_from_snapshot(data: dict[str, Any]) -> Message:
    row = MessageRow(
        id=data["id"],
        conversation_id=data["conversation_id"],
        author_id=data["author_id"],
        role=MessageRole(data["role"]),
        text=data["text"],
        status=MessageStatus(data["status"]),
        created_at=datetime.fromisoformat(data["created_at"]),
        completed_at=datetime.fromisoformat(data["completed_at"]) if data["completed_at"] else None,
        timings=data.get("timings") or {},
        error_code=data.get("error_code"),
        author_removed=False,
        reply_to_id=data.get("reply_to_id"),
    )
    return Message.from_model(row)


def event_from_payload(cursor: str, payload: dict[str, Any], sign: Any) -> Any:
    """Build the union member for one logged envelope; ``sign(key)`` makes a fresh audio URL."""
    common: dict[str, Any] = {
        "cursor": cursor,
        "conversation_id": strawberry.ID(ids.encode("Conversation", payload["conversation_id"])),
        "message_id": strawberry.ID(ids.encode("Message", payload["message_id"])),
        "at": datetime.fromisoformat(payload["at"]),
    }
    kind, data = payload["type"], payload["data"]
    if kind == "MessagePosted":
        return MessagePosted(**common, message=message_from_snapshot(data["message"]))
    if kind == "ReplyStarted":
        # Events logged before the field existed name no model.
        return ReplyStarted(
            **common, model=data.get("model", ""), fallback=data.get("fallback", False)
        )
    if kind == "MessageDelta":
        return MessageDelta(**common, seq=data["seq"], text=data["text"])
    if kind == "AudioChunk":
        return AudioChunk(
            **common,
            seq=data["seq"],
            url=sign(data["key"]),
            mime_type=data["mime_type"],
            start_ms=data["start_ms"],
            duration_ms=data["duration_ms"],
            text=data["text"],
        )
    if kind == "VisemeFrames":
        frames = [
            VisemeFrame(
                viseme=str(f["viseme"]),
                start_ms=f["start_ms"],
                end_ms=f["end_ms"],
                weight=f["weight"],
            )
            for f in data["frames"]
        ]
        return VisemeFrames(**common, audio_seq=data["audio_seq"], frames=frames)
    if kind == "EmotionChanged":
        return EmotionChanged(
            **common,
            emotion=Emotion(str(data["emotion"])),
            intensity=data["intensity"],
            at_ms=data["at_ms"],
        )
    if kind == "ReplyCompleted":
        return ReplyCompleted(**common, message=message_from_snapshot(data["message"]))
    if kind == "ReplyInterrupted":
        return ReplyInterrupted(
            **common, heard_text=data["heard_text"], message=message_from_snapshot(data["message"])
        )
    if kind == "ReplyDegraded":
        return ReplyDegraded(**common, reason=data["reason"], detail=data["detail"])
    if kind == "ReplyFailed":
        return ReplyFailed(
            **common,
            code=data["code"],
            detail=data["detail"],
            retryable=bool(data.get("retryable", False)),  # events logged before the field
        )
    if kind == "MemoryFormed":
        return MemoryFormed(**common, memory=Memory.from_snapshot(data["memory"]))
    raise ValueError(f"unknown event type {kind!r}")
