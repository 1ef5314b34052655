"""Small PCM/WAV helpers in pure Python (``audioop`` is deprecated and gone in 3.13).

WAV in any integer PCM layout is decoded with :mod:`wave`; anything else (float WAV, MP3, FLAC,
Ogg) goes through ``sox`` when it is installed.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import wave
from array import array
from dataclasses import dataclass

from pipeline.errors import ProviderBadResponse


class UndecodableAudio(ProviderBadResponse):
    """Audio handed to us that no decoder here can read; retrying will not help."""


@dataclass(frozen=True, slots=True)
class PcmAudio:
    pcm: bytes
    sample_rate: int
    channels: int = 1
    sample_width: int = 2

    @property
    def duration_ms(self) -> int:
        frame = self.channels * self.sample_width
        return round(len(self.pcm) // frame * 1000 / self.sample_rate) if frame else 0


def pcm16_to_wav(pcm: bytes, sample_rate: int, channels: int = 1) -> bytes:
    """Wrap little-endian 16-bit PCM in a WAV header."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm)
    return buf.getvalue()


def read_wav(data: bytes, provider: str = "audio") -> PcmAudio:
    """Decode an integer-PCM WAV; raise :class:`UndecodableAudio` naming ``provider``."""
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            audio = PcmAudio(
                pcm=w.readframes(w.getnframes()),
                sample_rate=w.getframerate(),
                channels=w.getnchannels(),
                sample_width=w.getsampwidth(),
            )
    except (wave.Error, EOFError, ValueError) as e:
        raise UndecodableAudio(provider, f"not a PCM WAV file: {e}") from e
    if audio.sample_rate <= 0 or audio.channels <= 0 or audio.sample_width not in (1, 2, 3, 4):
        raise UndecodableAudio(provider, "WAV header describes no usable PCM layout")
    return audio


def wav_duration_ms(data: bytes) -> int:
    return read_wav(data).duration_ms


def _samples(audio: PcmAudio) -> array[int]:
    """Samples as 16-bit ints, channels interleaved."""
    raw, width = audio.pcm, audio.sample_width
    usable = len(raw) - len(raw) % width
    if width == 1:  # 8-bit WAV is unsigned
        return array("h", ((b - 128) << 8 for b in raw[:usable]))
    if width == 2:
        out = array("h", raw[:usable])
        if sys.byteorder == "big":
            out.byteswap()
        return out
    if width == 4:
        wide = array("i", raw[:usable])
        if sys.byteorder == "big":
            wide.byteswap()
        return array("h", (s >> 16 for s in wide))
    return array(  # 24-bit: keep the two most significant bytes
        "h",
        (int.from_bytes(raw[i + 1 : i + 3], "little", signed=True) for i in range(0, usable, 3)),
    )


def to_pcm16_mono(audio: PcmAudio, sample_rate: int) -> bytes:
    """Mix down to mono and resample (linear interpolation after a short box low-pass)."""
    samples = _samples(audio)
    ch = audio.channels
    mono = (
        samples
        if ch == 1
        else array(
            "h", (sum(samples[i : i + ch]) // ch for i in range(0, len(samples) - ch + 1, ch))
        )
    )
    if audio.sample_rate == sample_rate or not mono:
        return mono.tobytes() if sys.byteorder == "little" else _swapped(mono)
    ratio = audio.sample_rate / sample_rate
    src: list[int] | array[int] = mono
    if ratio > 1.2:  # downsampling: soften what would alias (crude, adequate for speech)
        src = [
            (mono[max(i - 1, 0)] + 2 * mono[i] + mono[min(i + 1, len(mono) - 1)]) // 4
            for i in range(len(mono))
        ]
    n_out = int(len(src) / ratio)
    last = len(src) - 1
    out = array("h", bytes(2 * n_out))
    for j in range(n_out):
        pos = j * ratio
        i = int(pos)
        frac = pos - i
        nxt = src[i + 1] if i < last else src[last]
        out[j] = int(src[i] + (nxt - src[i]) * frac)
    return out.tobytes() if sys.byteorder == "little" else _swapped(out)


def _swapped(samples: array[int]) -> bytes:
    copy = array("h", samples)
    copy.byteswap()
    return copy.tobytes()


_SOX_TYPES = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/flac": "flac", "audio/ogg": "ogg"}


def sox_to_pcm16_mono(
    data: bytes, mime_type: str, sample_rate: int, provider: str = "audio"
) -> bytes:
    """Any format sox reads -> raw 16-bit mono PCM; :class:`UndecodableAudio` when it cannot."""
    sox = shutil.which("sox")
    if sox is None:
        raise UndecodableAudio(provider, f"cannot decode {mime_type} without sox (apt install sox)")
    kind = _SOX_TYPES.get(mime_type.split(";")[0].strip().lower(), "wav")
    cmd = [sox, "-q", "-t", kind, "-", "-t", "raw", "-e", "signed-integer", "-b", "16", "-L",
           "-c", "1", "-r", str(sample_rate), "-"]  # fmt: skip
    proc = subprocess.run(cmd, input=data, capture_output=True, timeout=60, check=False)
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip() or f"sox exited {proc.returncode}"
        raise UndecodableAudio(provider, f"cannot decode {mime_type}: {detail}")
    return proc.stdout


def decode_to_pcm16_mono(data: bytes, mime_type: str, sample_rate: int, provider: str) -> bytes:
    """What an STT engine wants: mono 16-bit PCM at ``sample_rate`` from whatever came in.

    sox is preferred for resampling: the pure-Python fallback aliases enough (measured on
    espeak-ng audio) that PocketSphinx loses words it otherwise gets right.
    """
    try:
        audio = read_wav(data, provider)
    except UndecodableAudio:
        if not data.startswith(b"RIFF") and mime_type.startswith(("audio/wav", "audio/x-wav")):
            raise
        return sox_to_pcm16_mono(data, mime_type, sample_rate, provider)
    ready = audio.sample_rate == sample_rate and audio.channels == 1 and audio.sample_width == 2
    if ready or shutil.which("sox") is None:
        return to_pcm16_mono(audio, sample_rate)
    return sox_to_pcm16_mono(data, "audio/wav", sample_rate, provider)


def speech_bounds_ms(pcm16: bytes, sample_rate: int, window_ms: int = 10) -> tuple[int, int] | None:
    """First and last window louder than 5% of the loudest one; ``None`` for silence."""
    samples = array("h", pcm16[: len(pcm16) - len(pcm16) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    step = max(1, sample_rate * window_ms // 1000)
    energy = [sum(s * s for s in samples[i : i + step]) for i in range(0, len(samples), step)]
    peak = max(energy, default=0)
    if peak == 0:
        return None
    loud = [i for i, e in enumerate(energy) if e >= peak * 0.0025]  # 5% amplitude = 0.25% energy
    total_ms = len(samples) * 1000 // sample_rate
    return loud[0] * window_ms, min((loud[-1] + 1) * window_ms, total_ms)
