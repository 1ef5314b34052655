"""Events a reply produces, as small frozen values.

They are converted once to the GraphQL ``ConversationEvent`` union at the edge; inside the
pipeline and on the broadcast channel they travel as these dataclasses (or their dict form).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


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
    NEUTRAL = "neutral"
    JOY = "joy"
    SADNESS = "sadness"
    ANGER = "anger"
    FEAR = "fear"
    SURPRISE = "surprise"
    DISGUST = "disgust"
    AFFECTION = "affection"
    THINKING = "thinking"


@dataclass(frozen=True, slots=True)
class VisemeFrame:
    """One mouth shape; times in ms relative to the start of its audio chunk."""

    viseme: Viseme
    start_ms: int
    end_ms: int
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class ReplyStarted:
    """``model`` answers this reply; ``fallback`` when the configured model could not run and
    the persona responder answers instead."""

    model: str
    fallback: bool = False


@dataclass(frozen=True, slots=True)
class MessageDelta:
    seq: int
    text: str


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """``start_ms`` is relative to the start of the reply's audio."""

    seq: int
    url: str
    mime_type: str
    start_ms: int
    duration_ms: int
    text: str


@dataclass(frozen=True, slots=True)
class VisemeFrames:
    audio_seq: int
    frames: tuple[VisemeFrame, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class EmotionChanged:
    emotion: Emotion
    intensity: float
    at_ms: int


@dataclass(frozen=True, slots=True)
class ReplyCompleted:
    text: str


@dataclass(frozen=True, slots=True)
class ReplyInterrupted:
    heard_text: str


@dataclass(frozen=True, slots=True)
class ReplyFailed:
    code: str
    detail: str
    retryable: bool = False  # trying again (sending the message again) may work


AUDIO_STORAGE_FAILED = "AUDIO_STORAGE_FAILED"
VOICE_CHECK_FAILED = "VOICE_CHECK_FAILED"  # the voice minutes could not be read (database away)
SPEECH_BUSY = "SPEECH_BUSY"  # offline speech too far behind, or its worker stopped: text goes on


@dataclass(frozen=True, slots=True)
class ReplyDegraded:
    """Sent once per reply when it goes on without part of what it normally carries: after
    ``AUDIO_STORAGE_FAILED``, ``VOICE_CHECK_FAILED`` or ``SPEECH_BUSY`` the chunks concerned
    have no audio or visemes; text and emotions go on."""

    reason: str
    detail: str


ReplyEvent = (
    ReplyStarted
    | MessageDelta
    | AudioChunk
    | VisemeFrames
    | EmotionChanged
    | ReplyDegraded
    | ReplyCompleted
    | ReplyInterrupted
    | ReplyFailed
)
