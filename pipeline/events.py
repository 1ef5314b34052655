"""Every live event, declared once as a small frozen value.

The pipeline emits them, services publish them (pipeline/event_codec.py writes them to the
replay log as JSON and reads them back), and the GraphQL object types and the members of the
``ConversationEvent`` and ``HologramEvent`` unions are derived from these classes
(schema/types/derived.py). Adding an event: declare it here and add it to one of the unions at
the bottom; the log's JSON and the schema follow. A docstring is the type's description for
clients; ``field(metadata=about(...))`` describes a field. Storage keys (``StorageKey``) are
logged as keys and become freshly signed URLs at delivery, so a replay days later still plays.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, NewType, get_args

StorageKey = NewType("StorageKey", str)
"""A blob's key in storage; shown to clients as a signed, expiring URL (``key`` -> ``url``)."""

DESCRIPTION: Final = "description"
INTERNAL: Final = "internal"  # logged and acted on by the server, never shown to clients
NODE: Final = "node"  # an id shown as the global ID of this node type


def about(description: str) -> dict[str, Any]:
    """Field metadata: what the field means, for clients."""
    return {DESCRIPTION: description}


class Viseme(enum.StrEnum):
    """The 15 Oculus/Meta visemes."""

    SIL = "sil"
    PP = "PP"
    FF = "FF"
    TH = "TH"
    DD = "DD"
    KK = "kk"
    CH = "CH"
    SS = "SS"
    NN = "nn"
    RR = "RR"
    AA = "aa"
    E = "E"
    IH = "ih"
    OH = "oh"
    OU = "ou"


class Emotion(enum.StrEnum):
    """The fixed set of emotions a companion shows."""

    # Lower-case members: the GraphQL enum is this class, and GraphQL shows member names.
    neutral = "neutral"
    joy = "joy"
    sadness = "sadness"
    anger = "anger"
    fear = "fear"
    surprise = "surprise"
    disgust = "disgust"
    affection = "affection"
    thinking = "thinking"


@dataclass(frozen=True, slots=True)
class VisemeFrame:
    """One mouth shape; times in ms relative to its audio chunk."""

    viseme: Viseme = field(
        metadata=about(
            "One of the 15 Oculus/Meta visemes: sil PP FF TH DD kk CH SS nn RR aa E ih oh ou"
        )
    )
    start_ms: int
    end_ms: int
    weight: float = 1.0


# ---- what events carry of a row (services/events.py takes them from the database) ----------
# ``author_id`` comes early and is never last: account erasure scrubs a person's events from
# others' conversations by ``"author_id":<id>,`` (services/erasure.py).


@dataclass(frozen=True, slots=True)
class MessageSnapshot:
    id: int
    conversation_id: int
    author_id: int | None
    role: str
    text: str
    status: str
    created_at: datetime
    completed_at: datetime | None
    timings: dict[str, Any] = field(default_factory=dict)  # older entries may lack these three
    error_code: str | None = None
    reply_to_id: int | None = None


@dataclass(frozen=True, slots=True)
class MemorySnapshot:
    id: int
    author_id: int
    companion_id: int
    text: str
    kind: str
    importance: float
    origin: str
    conversation_id: int | None
    message_id: int | None
    created_at: datetime
    updated_at: datetime
    last_recalled_at: datetime | None


# ---- a conversation: every member carries cursor, conversationId, messageId and at ------------


@dataclass(frozen=True, slots=True)
class MessagePosted:
    message: MessageSnapshot


@dataclass(frozen=True, slots=True)
class ReplyStarted:
    model: str = field(
        default="",  # events logged before the field existed name no model
        metadata=about(
            'The model answering, e.g. "SmolLM2-135M-Instruct", or "persona-responder" '
            "(the offline templates, not a language model)."
        ),
    )
    fallback: bool = field(
        default=False,
        metadata=about(
            "The configured model could not run (not installed, or its server stopped) "
            "and the persona responder answers instead."
        ),
    )


@dataclass(frozen=True, slots=True)
class MessageDelta:
    seq: int
    text: str


@dataclass(frozen=True, slots=True)
class AudioChunk:
    seq: int
    key: StorageKey = field(metadata=about("Signed, expiring URL of this chunk's audio."))
    mime_type: str
    start_ms: int = field(metadata=about("Start within the reply's audio."))
    duration_ms: int
    text: str


@dataclass(frozen=True, slots=True)
class VisemeFrames:
    audio_seq: int
    frames: tuple[VisemeFrame, ...] = ()


@dataclass(frozen=True, slots=True)
class EmotionChanged:
    emotion: Emotion
    intensity: float
    at_ms: int = field(metadata=about("Position in the reply's audio."))


AUDIO_STORAGE_FAILED = "AUDIO_STORAGE_FAILED"
VOICE_CHECK_FAILED = "VOICE_CHECK_FAILED"  # the voice minutes could not be read (database away)
SPEECH_BUSY = "SPEECH_BUSY"  # offline speech too far behind, or its worker stopped: text goes on


@dataclass(frozen=True, slots=True)
class ReplyDegraded:
    """The reply went on without part of what it normally carries; sent once per reply. reason
    AUDIO_STORAGE_FAILED (audio could not be stored), VOICE_CHECK_FAILED (voice minutes could
    not be checked) or SPEECH_BUSY (the server's speech synthesis is too far behind, or its
    worker stopped): chunks from here on may come without AudioChunk and VisemeFrames; text and
    emotions go on and the reply completes."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class ReplyCompleted:
    message: MessageSnapshot


@dataclass(frozen=True, slots=True)
class ReplyInterrupted:
    heard_text: str
    message: MessageSnapshot


@dataclass(frozen=True, slots=True)
class ReplyFailed:
    code: str
    detail: str
    retryable: bool = field(
        default=False,  # events logged before the field
        metadata=about(
            "Sending the message again may work (e.g. REPLY_OWNER_LOST: the server producing "
            "the reply stopped; PROVIDER_UNAVAILABLE)."
        ),
    )


@dataclass(frozen=True, slots=True)
class MemoryFormed:
    """The companion will remember something a person said (formed after the turn, or updated
    when it changes what was remembered): a screen can show 'Nova will remember that'.
    messageId is the person's message it came from."""

    memory: MemorySnapshot


# ---- a voice session streamed over the socket (services/voice_sessions/) --------------------
# messageId is the person's message the turn became (VoiceFinalTranscript with outcome MESSAGE),
# else msg_0: the turn is no message yet. Times are ms of the session's streamed audio.
# ``author_id`` is first, for account erasure (see above).


@dataclass(frozen=True, slots=True)
class VoiceWord:
    """One recognised word and where it was said, in ms of the session's streamed audio."""

    word: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class VoiceSpeechStarted:
    """The server heard speech begin in a voice session (screens show 'listening')."""

    author_id: int = field(metadata={NODE: "User"})
    session_id: str
    at_ms: int = field(metadata=about("First voiced audio, in ms of the session's stream."))


@dataclass(frozen=True, slots=True)
class VoicePartialTranscript:
    """What the person has said so far in this turn (about once a second); may change."""

    author_id: int = field(metadata={NODE: "User"})
    session_id: str
    text: str
    through_ms: int = field(metadata=about("The stream position the text covers."))


@dataclass(frozen=True, slots=True)
class VoiceTurnEnded:
    """The person stopped speaking (a configured silence followed): the final transcript and
    the reply follow."""

    author_id: int = field(metadata={NODE: "User"})
    session_id: str
    start_ms: int
    end_ms: int = field(metadata=about("Last voiced audio of the turn, in ms of the stream."))
    voiced_ms: int


@dataclass(frozen=True, slots=True)
class VoiceFinalTranscript:
    """The turn's transcript with word timings. outcome MESSAGE: it became the person's message
    (messageId) and the reply starts; NO_SPEECH: no words recognised; BACKCHANNEL: a short
    sound while the companion was speaking, not taken as a turn; REFUSED: the message was
    refused (detail says why, e.g. a plan limit); STT_FAILED: speech-to-text could not finish
    (busy or stopped; detail)."""

    author_id: int = field(metadata={NODE: "User"})
    session_id: str
    text: str
    outcome: str
    detail: str = ""
    words: tuple[VoiceWord, ...] = ()


@dataclass(frozen=True, slots=True)
class VoiceSessionClosed:
    """The voice session ended. reason ENDED (endVoiceSession), IDLE (no audio for the idle
    timeout), QUOTA_EXCEEDED (the plan's voice minutes ran out), SERVER_STOPPING,
    DEVICE_UNPAIRED (its device was unpaired), SESSION_ENDED (its login ended: logout, a
    password change); the last two at once, with what was not yet transcribed dropped."""

    author_id: int = field(metadata={NODE: "User"})
    session_id: str
    reason: str
    detail: str = ""


# ---- commands to one device: every member carries cursor and at ---------------------------


@dataclass(frozen=True, slots=True)
class CompanionSwitched:
    """Show this companion now; replies come from it from here on."""

    companion_id: int | None = field(metadata={NODE: "Companion"})
    # Where the stream starts on the new companion's channel: no reply is lost in between.
    companion_after: str | None = field(default=None, metadata={INTERNAL: True})


@dataclass(frozen=True, slots=True)
class PlayAnimation:
    name: str
    loop: bool


@dataclass(frozen=True, slots=True)
class VolumeChanged:
    volume: float


@dataclass(frozen=True, slots=True)
class SleepChanged:
    asleep: bool


@dataclass(frozen=True, slots=True)
class Revoked:
    """Internal: close the device's sockets (it was unpaired)."""


@dataclass(frozen=True, slots=True)
class SpeakingChanged:
    """Internal: start or stop passing audio on to the device."""

    speaks: bool


# ---- the streams, in the order clients see the union members ------------------------------

ReplyEvent = (
    ReplyStarted | MessageDelta | AudioChunk | VisemeFrames | EmotionChanged | ReplyDegraded
)
"""What the pipeline emits while a reply runs; its end is the ``ReplyOutcome`` it returns,
published as ReplyCompleted, ReplyInterrupted or ReplyFailed once the message row is saved."""

CompanionEvent = MessagePosted | ReplyEvent | ReplyCompleted | ReplyInterrupted | ReplyFailed
"""Published on a conversation and followed by the holograms showing its companion."""

VoiceEvent = (
    VoiceSpeechStarted
    | VoicePartialTranscript
    | VoiceTurnEnded
    | VoiceFinalTranscript
    | VoiceSessionClosed
)
"""A voice session's events, on its conversation (and on its companion's holograms)."""

ConversationEvent = CompanionEvent | MemoryFormed | VoiceEvent
"""The ``ConversationEvent`` union."""

DeviceCommand = CompanionSwitched | PlayAnimation | VolumeChanged | SleepChanged
"""Commands a device receives in ``hologramEvents``."""

HologramEvent = CompanionEvent | VoiceEvent | DeviceCommand
"""The ``HologramEvent`` union: a hologram talked to hands-free shows it listening."""

Command = DeviceCommand | Revoked | SpeakingChanged
"""Everything logged on a device's channel: its commands and the stream's internal ones."""

COMPANION_EVENTS: tuple[type[CompanionEvent], ...] = get_args(CompanionEvent)
VOICE_EVENTS: tuple[type[VoiceEvent], ...] = get_args(VoiceEvent)
CONVERSATION_EVENTS: tuple[type[ConversationEvent], ...] = get_args(ConversationEvent)
DEVICE_COMMANDS: tuple[type[DeviceCommand], ...] = get_args(DeviceCommand)
HOLOGRAM_EVENTS: tuple[type[HologramEvent], ...] = get_args(HologramEvent)
COMMANDS: tuple[type[Command], ...] = get_args(Command)
