"""A voice message in: what cannot be decoded, or is longer than the plan allows, is refused
from its header alone, before any speech-to-text work; then the transcript, with the speech
engine's failures answered in the API's codes (busy: RATE_LIMITED; stopped or timed out:
SERVICE_UNAVAILABLE, retryable; undecodable: BAD_USER_INPUT on ``audio``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.audio import UndecodableAudio, WavInfo, inspect_wav
from pipeline.stt.base import STTProvider, Transcript
from pipeline.stt.process_pool import STTBusy, STTStopping, STTTimedOut, STTWorkerLost
from services.errors import AppError, BadUserInput, RateLimited, ServiceUnavailable

FIELD = "audio"
# A transcript may be longer than a typed message: 5 minutes of espeak-ng speech (the pro plan's
# longest message) came to 6,147 characters of dictation (bench.abuse_voice).
MAX_TEXT = 12_000
# (session, person, duration in ms): raises QuotaExceeded when the plan allows less.
VoiceLengthCheck = Callable[[AsyncSession, int, int], Awaitable[None]]


class SpeechUnavailable(ServiceUnavailable):
    """Speech-to-text could not finish this message; sending it again may work."""

    def __init__(self, message: str, reason: str) -> None:
        AppError.__init__(self, message, retryable=True, reason=reason)


def inspect(audio: bytes) -> WavInfo:
    """The upload's layout and duration, read from its header (cheap: no samples decoded)."""
    if not audio:
        raise BadUserInput("The audio file is empty", field=FIELD)
    try:
        return inspect_wav(audio)
    except UndecodableAudio as e:
        raise BadUserInput(f"The audio is {e.detail}", field=FIELD) from e


async def transcribe(stt: STTProvider, audio: bytes, mime_type: str) -> Transcript:
    try:
        return await stt.transcribe(audio, mime_type)
    except UndecodableAudio as e:
        raise BadUserInput(f"The audio is {e.detail}", field=FIELD) from e
    except STTBusy as e:
        raise RateLimited(
            "Speech-to-text is busy with other messages; try again shortly", e.retry_after_s
        ) from e
    except STTTimedOut as e:
        raise SpeechUnavailable(
            "Speech-to-text took too long on this message; try again shortly", "STT_TIMEOUT"
        ) from e
    except STTWorkerLost as e:
        raise SpeechUnavailable(
            "Speech-to-text stopped while working on this message; send it again",
            "STT_WORKER_LOST",
        ) from e
    except STTStopping as e:
        raise SpeechUnavailable(
            "The server is restarting; send this message again", "SERVER_STOPPING"
        ) from e


def transcript_text(transcript: Transcript) -> str:
    """The words to send as the message; refused on ``audio`` when there are none, or more
    than a message holds."""
    text = transcript.text.strip()
    if not text:
        raise BadUserInput("No speech was recognised in the audio", field=FIELD)
    if len(text) > MAX_TEXT:
        raise BadUserInput(
            f"The recording holds more words than one message ({MAX_TEXT} characters)",
            field=FIELD,
        )
    return text
