"""Voice messages as a client sends them (GraphQL multipart), and WAV files built byte by byte."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.tts.base import VoiceSettings
from pipeline.tts.espeak import render

SEND_VOICE = """
mutation Voice($conversationId: ID!, $audio: Upload!) {
  sendVoiceMessage(conversationId: $conversationId, audio: $audio) { id text role }
}
"""
SENTENCE = "hello how are you today"
QUESTION = "Hello Mira. What is your favourite star?"  # what the apps' microphones hear


async def send_voice(
    http: httpx.AsyncClient,
    token: str,
    conversation_id: str,
    audio: bytes,
    content_type: str = "audio/wav",
) -> dict[str, Any]:
    """The whole GraphQL answer to a ``sendVoiceMessage`` multipart request."""
    variables = {"conversationId": conversation_id, "audio": None}
    operations = {"query": SEND_VOICE, "variables": variables}
    response = await http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.audio"]})},
        files={"0": ("voice.wav", audio, content_type)},
        headers={"authorization": f"Bearer {token}"},
        timeout=300,
    )
    body: dict[str, Any] = response.json()
    return body


def spoken_wav(path: Path, text: str, pad_s: tuple[float, float], rate: int | None = None) -> Path:
    """``text`` as espeak-ng says it, at ``path`` as a client's microphone hands it over:
    mono 16-bit at ``rate`` (None: espeak-ng's own 22,050 Hz), with ``pad_s`` seconds of
    silence before and after it."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.fail("espeak-ng and sox are needed: run ./dev setup")
    raw = path.with_name(f"{path.stem}.raw.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(raw), text], check=True)
    resample = ["-r", str(rate)] if rate else []
    before, after = (str(s) for s in pad_s)
    subprocess.run(
        ["sox", str(raw), *resample, "-c", "1", "-b", "16", str(path), "pad", before, after],
        check=True,
    )
    return path


def wav_bytes(
    data: bytes,
    *,
    rate: int = 16000,
    channels: int = 1,
    bits: int = 16,
    tag: int = 1,
    block_align: int | None = None,
    fmt_size: int | None = None,
    fmt_tail: bytes = b"",
    data_size: int | None = None,
    before_data: bytes = b"",
) -> bytes:
    """A WAV file with every header field under the caller's control (to build bad ones)."""
    align = channels * bits // 8 if block_align is None else block_align
    fmt = (
        struct.pack("<HHIIHH", tag, channels, rate, (rate * align) & 0xFFFFFFFF, align, bits)
        + fmt_tail
    )
    fmt_chunk = b"fmt " + struct.pack("<I", len(fmt) if fmt_size is None else fmt_size) + fmt
    size = len(data) if data_size is None else data_size
    body = b"WAVE" + fmt_chunk + before_data + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body) & 0xFFFFFFFF) + body


@cache
def speech_pcm16(sentence: str = SENTENCE) -> tuple[bytes, int]:
    """espeak-ng saying ``sentence``: 16-bit mono PCM and its sample rate (22,050 Hz)."""
    spoken = render(sentence, VoiceSettings())
    return spoken.pcm, spoken.sample_rate


def speech_wav(seconds: float | None = None, sentence: str = SENTENCE) -> bytes:
    """Speech as a 16-bit mono WAV, repeated (a second of silence between) to ``seconds``."""
    pcm, rate = speech_pcm16(sentence)
    if seconds is not None:
        unit = pcm + bytes(2 * rate)
        want = int(seconds * rate) * 2
        pcm = (unit * (want // len(unit) + 1))[:want]
    return wav_bytes(pcm, rate=rate)


def silence_wav(seconds: float, rate: int = 16000) -> bytes:
    return wav_bytes(bytes(int(seconds * rate) * 2), rate=rate)
