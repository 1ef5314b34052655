"""One streamed chunk, checked before it costs anything: bounded size first (from the base64
text's length, before decoding), then valid base64, then whole 16-bit samples. Refusals are
BAD_USER_INPUT with ``field`` and a stable ``reason`` a client can switch on."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from services.errors import BAD_USER_INPUT, AppError

BYTES_PER_MS = 32  # 16 kHz mono PCM16

# Stable reasons (extensions.reason), all with code BAD_USER_INPUT.
EMPTY_CHUNK = "EMPTY_CHUNK"
CHUNK_TOO_LARGE = "CHUNK_TOO_LARGE"
BAD_BASE64 = "BAD_BASE64"
ODD_BYTE_COUNT = "ODD_BYTE_COUNT"
SEQ_REPEATED = "SEQ_REPEATED"  # a seq already received (or negative)
SEQ_GAP = "SEQ_GAP"  # too far ahead of the next expected seq: chunks were lost


class ChunkRefused(AppError):
    code = BAD_USER_INPUT

    def __init__(self, message: str, field: str, reason: str) -> None:
        super().__init__(message, field=field, reason=reason)


@dataclass(frozen=True, slots=True)
class Playback:
    """What the device reports playing with a chunk: the companion's reply and how far into
    its audio the person has heard (as ``interruptReply``'s ``heardUntilMs``)."""

    message_id: int
    heard_until_ms: int


def decode_pcm(audio: str, max_bytes: int) -> bytes:
    """The chunk's PCM16 bytes from its base64 text, or ChunkRefused."""
    if not audio:
        raise ChunkRefused("The chunk holds no audio", "audio", EMPTY_CHUNK)
    if len(audio) > (max_bytes + 2) // 3 * 4:
        raise ChunkRefused(
            f"A chunk holds at most {max_bytes // BYTES_PER_MS} ms "
            f"({max_bytes} bytes of 16 kHz mono PCM16)",
            "audio",
            CHUNK_TOO_LARGE,
        )
    try:
        pcm = base64.b64decode(audio, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ChunkRefused("The audio is not valid base64", "audio", BAD_BASE64) from e
    if not pcm:
        raise ChunkRefused("The chunk holds no audio", "audio", EMPTY_CHUNK)
    if len(pcm) % 2:
        raise ChunkRefused(
            "The audio must be whole 16-bit samples (an even number of bytes)",
            "audio",
            ODD_BYTE_COUNT,
        )
    return pcm
