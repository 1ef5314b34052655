"""A streamed voice session as clients see it: what to send, and the chunk acknowledgement."""

from __future__ import annotations

import strawberry

from pipeline.vad import SAMPLE_RATE
from schema import ids


@strawberry.type(
    description="Stream the microphone with sendVoiceChunk (16 kHz mono PCM16, little-endian, "
    "base64; ~100 ms a chunk, seq 0, 1, 2...); its events arrive on conversationEvents "
    "(a device's on hologramEvents)."
)
class VoiceSession:
    id: strawberry.ID
    conversation_id: strawberry.ID
    sample_rate: int
    max_chunk_ms: int
    end_silence_ms: int = strawberry.field(description="Silence that ends a turn.")
    barge_in_ms: int = strawberry.field(
        description="Speech over a playing reply (reported with the chunks) that interrupts it."
    )
    idle_timeout_s: float

    @classmethod
    def of(
        cls,
        session_id: str,
        conversation_id: int,
        max_chunk_ms: int,
        end_silence_ms: int,
        barge_in_ms: int,
        idle_timeout_s: float,
    ) -> VoiceSession:
        return cls(
            id=strawberry.ID(session_id),
            conversation_id=strawberry.ID(ids.encode("Conversation", conversation_id)),
            sample_rate=SAMPLE_RATE,
            max_chunk_ms=max_chunk_ms,
            end_silence_ms=end_silence_ms,
            barge_in_ms=barge_in_ms,
            idle_timeout_s=idle_timeout_s,
        )


@strawberry.type
class VoiceChunkAck:
    seq: int
    received_ms: int = strawberry.field(description="Audio received in this session so far.")


@strawberry.input(
    description="The companion's reply the device is playing as this chunk was recorded: "
    "speech over it interrupts it where heard, as interruptReply does."
)
class VoicePlaybackInput:
    message_id: strawberry.ID
    heard_until_ms: int
