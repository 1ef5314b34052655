"""Voice uploads a decoder cannot read answer BAD_USER_INPUT on ``audio``, from the header alone
(no worker is started for them); odd but readable layouts are converted and transcribed; a
message longer than the plan allows is refused as QUOTA_EXCEEDED before any decoding."""

from __future__ import annotations

import struct
from array import array

import httpx
import pytest
from starlette.applications import Starlette

from api.settings import Settings
from pipeline.stt.base import Transcript
from pipeline.stt.process_pool import ProcessPoolSTT
from services import voice_input
from services.errors import BadUserInput
from tests.support.graphql import GraphQLClient, create_companion, register, start_conversation
from tests.support.voice import send_voice, silence_wav, speech_pcm16, wav_bytes

SECOND = bytes(2 * 16000)  # one second of 16-bit mono silence at 16 kHz
GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"  # KSDATAFORMAT_SUBTYPE_*

HOSTILE = {
    "empty file": b"",
    "a text file": b"Hello, this is not a recording at all.\n" * 20,
    "RIFF header only": b"RIFF\x04\x00\x00\x00WAVE",
    "0 channels": wav_bytes(SECOND, channels=0, block_align=2),
    "9 channels": wav_bytes(SECOND[:18], channels=9),
    "sample rate 0": wav_bytes(SECOND, rate=0),
    "sample rate 1 Hz": wav_bytes(SECOND, rate=1),
    "sample rate 4 GHz": wav_bytes(SECOND, rate=4_000_000_000),
    "12-bit samples": wav_bytes(SECOND, bits=12, block_align=2),
    "0-bit samples": wav_bytes(SECOND, bits=0, block_align=0),
    "16-bit float": wav_bytes(SECOND, tag=3),
    "mu-law (compressed)": wav_bytes(SECOND[:8000], tag=7, bits=8),
    "extensible without its sub-format": wav_bytes(SECOND, tag=0xFFFE, fmt_tail=b"\x16\x00"),
    "block size not matching the samples": wav_bytes(SECOND, block_align=3),
    "a huge fmt chunk (declared)": wav_bytes(SECOND, fmt_size=0x7FFFFFF0),
    "a huge fmt chunk (present)": wav_bytes(SECOND, fmt_size=16 + 4096, fmt_tail=bytes(4096)),
    "truncated data": wav_bytes(SECOND, data_size=10 * len(SECOND)),
    "data size 0xFFFFFFFF": wav_bytes(SECOND, data_size=0xFFFFFFFF),
    "no audio in the data chunk": wav_bytes(b""),
    "only half a frame": wav_bytes(b"\x01"),
    "data before fmt": b"RIFF\x00\x00\x00\x00WAVEdata\x04\x00\x00\x00\x00\x00\x00\x00",
    "a chunk running past the end": wav_bytes(SECOND, before_data=b"LIST\xff\xff\x00\x00"),
    "no data among many chunks": wav_bytes(b"", before_data=b"junk\x00\x00\x00\x00" * 40)[:-8],
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Uploads come in bursts here: the per-account request limit is not under test."""
    return settings.model_copy(update={"rate_limit_account": "", "rate_limit_ip": ""})


@pytest.fixture
async def speaker(api: GraphQLClient) -> tuple[str, str]:
    """A signed-in person (free plan) and one of their conversations."""
    token = (await register(api, "voice@example.com"))["accessToken"]
    companion = await create_companion(api, token)
    return token, (await start_conversation(api, token, companion["id"]))["id"]


def pool_of(app: Starlette) -> ProcessPoolSTT:
    stt = app.state.holo.replies.providers.stt
    assert isinstance(stt, ProcessPoolSTT)
    return stt


async def test_every_undecodable_wav_answers_bad_user_input_on_audio(
    app: Starlette, http: httpx.AsyncClient, speaker: tuple[str, str]
) -> None:
    token, conversation = speaker
    for label, audio in HOSTILE.items():
        body = await send_voice(http, token, conversation, audio)
        assert body.get("data") is None, (label, body)
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (label, error)
        assert error["extensions"]["field"] == "audio", label
        assert error["message"].startswith("The audio"), (label, error["message"])
    assert pool_of(app).worker_pids() == []  # all refused in the event loop, none decoded


def _variants() -> dict[str, bytes]:
    pcm, rate = speech_pcm16()
    samples = array("h", pcm)
    floats = array("f", (s / 32768 for s in samples))
    stereo = array("h", (s for s in samples for _ in range(2)))
    pcm24 = b"".join(struct.pack("<i", s << 8)[:3] for s in samples)
    return {
        "32-bit float": wav_bytes(floats.tobytes(), rate=rate, bits=32, tag=3),
        "8-bit unsigned": wav_bytes(bytes((s >> 8) + 128 for s in samples), rate=rate, bits=8),
        "stereo": wav_bytes(stereo.tobytes(), rate=rate, channels=2),
        "24-bit": wav_bytes(pcm24, rate=rate, bits=24),
        "extensible 16-bit": wav_bytes(
            pcm,
            rate=rate,
            tag=0xFFFE,
            fmt_tail=struct.pack("<HHI", 22, 16, 4) + b"\x01\x00" + GUID_TAIL,
        ),
    }


@pytest.mark.one_backend  # decoding and transcription; the upload path is tested on both
async def test_float_8_bit_24_bit_stereo_and_extensible_wavs_are_transcribed(
    http: httpx.AsyncClient, speaker: tuple[str, str]
) -> None:
    token, conversation = speaker
    for label, audio in _variants().items():
        body = await send_voice(http, token, conversation, audio)
        assert "errors" not in body, (label, body.get("errors"))
        message = body["data"]["sendVoiceMessage"]
        assert message["role"] == "USER" and message["text"].strip(), label


async def test_a_voice_message_longer_than_the_plan_allows_is_refused_before_decoding(
    app: Starlette, http: httpx.AsyncClient, api: GraphQLClient, speaker: tuple[str, str]
) -> None:
    token, conversation = speaker
    limits = await api.ok("{ billing { plan limits { voiceMessageSeconds } } }", token=token)
    assert limits["billing"] == {"plan": "free", "limits": {"voiceMessageSeconds": 60}}
    body = await send_voice(http, token, conversation, silence_wav(60.5))
    (error,) = body["errors"]
    assert error["extensions"] == {
        "code": "QUOTA_EXCEEDED",
        "limit": "voiceMessageSeconds",
        "allowed": 60,
    }
    assert pool_of(app).worker_pids() == []  # refused from the header: nothing was decoded
    short = await send_voice(http, token, conversation, silence_wav(2))
    (error,) = short["errors"]  # decoded this time: silence has no words to send
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "audio"}
    assert error["message"] == "No speech was recognised in the audio"


def test_a_long_transcript_is_one_message_and_a_runaway_one_is_refused_on_audio() -> None:
    """Five minutes of speech is longer than a typed message may be (4,000 characters)."""
    five_minutes = " ".join(["good morning did you sleep well last night"] * 120)
    assert len(five_minutes) > 5000
    assert voice_input.transcript_text(Transcript(five_minutes)) == five_minutes
    with pytest.raises(BadUserInput) as runaway:
        voice_input.transcript_text(Transcript("la " * voice_input.MAX_TEXT))
    assert runaway.value.extensions == {"field": "audio"}
    with pytest.raises(BadUserInput, match="No speech"):
        voice_input.transcript_text(Transcript("  "))
