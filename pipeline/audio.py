"""Small PCM/WAV helpers in pure Python (``audioop`` is deprecated and gone in 3.13).

Uploaded WAV is read by :func:`inspect_wav`, a bounded header parse cheap enough for the event
loop (it walks at most a few chunk headers and never touches the samples), so a file no decoder
here can read is refused before any work is queued: integer PCM of 8-32 bits and float of 32 or
64 bits, 1-8 channels, 8-96 kHz. Decoding and resampling (sox when installed) happen where the
speech-to-text runs. Anything that is not WAV (MP3, FLAC, Ogg) goes through ``sox``.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import sys
import wave
from array import array
from collections.abc import Callable
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
    is_float: bool = False  # IEEE float samples (4 or 8 bytes) in [-1, 1]

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


MIN_RATE, MAX_RATE = 8000, 96000  # below: no speech left to hear; above: not a recording
MAX_CHANNELS = 8
_MAX_CHUNKS = 32  # chunks walked before ``data`` (fmt, LIST, fact, ...): real files have < 5
_MAX_FMT_BYTES = 64  # PCM 16, float 18, extensible 40
_PCM, _FLOAT, _EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
_WIDTHS = {_PCM: (1, 2, 3, 4), _FLOAT: (4, 8)}


@dataclass(frozen=True, slots=True)
class WavInfo:
    """What a WAV header promises, checked against the bytes that follow it."""

    sample_rate: int
    channels: int
    sample_width: int
    is_float: bool
    data_offset: int
    frames: int

    @property
    def duration_ms(self) -> int:
        return self.frames * 1000 // self.sample_rate

    def audio(self, data: bytes) -> PcmAudio:
        end = self.data_offset + self.frames * self.channels * self.sample_width
        return PcmAudio(
            data[self.data_offset : end],
            self.sample_rate,
            self.channels,
            self.sample_width,
            self.is_float,
        )


def inspect_wav(data: bytes, provider: str = "audio") -> WavInfo:
    """Parse and bound-check a WAV header; :class:`UndecodableAudio` says what is wrong.

    Refused: no RIFF/WAVE header, a chunk running past the end of the file, an ``fmt`` chunk
    of an odd size, compressed formats, layouts out of range, a ``data`` chunk declaring more
    bytes than the file holds (truncated), no audio at all. A trailing partial frame is dropped.
    """

    def refuse(detail: str) -> UndecodableAudio:
        return UndecodableAudio(provider, f"not a usable WAV file: {detail}")

    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise refuse("no RIFF/WAVE header")
    fmt: tuple[int, int, int, int, int] | None = None
    pos = 12
    for _ in range(_MAX_CHUNKS):
        if pos + 8 > len(data):
            raise refuse("it ends before any audio data")
        chunk_id, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        body = pos + 8
        if chunk_id == b"data":
            if fmt is None:
                raise refuse("the audio data comes before its format (fmt chunk)")
            return _checked(fmt, body, size, len(data) - body, refuse)
        if body + size > len(data):
            raise refuse(f"the {chunk_id!r} chunk runs past the end of the file")
        if chunk_id == b"fmt ":
            if not 16 <= size <= _MAX_FMT_BYTES:
                raise refuse(f"an fmt chunk of {size} bytes (16-{_MAX_FMT_BYTES} expected)")
            fmt = _format(data[body : body + size], refuse)
        pos = body + size + (size & 1)  # chunks are padded to an even length
    raise refuse(f"no audio data within its first {_MAX_CHUNKS} chunks")


def _format(
    fmt: bytes, refuse: Callable[[str], UndecodableAudio]
) -> tuple[int, int, int, int, int]:
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE:
        if len(fmt) < 40:
            raise refuse("an extensible format without its sub-format")
        tag = int.from_bytes(fmt[24:26], "little")  # first two bytes of the sub-format GUID
    if tag not in _WIDTHS:
        raise refuse(f"format {tag:#06x} is compressed or unknown (send PCM or float samples)")
    if not 1 <= channels <= MAX_CHANNELS:
        raise refuse(f"{channels} channels (1-{MAX_CHANNELS} accepted)")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise refuse(f"a sample rate of {rate} Hz ({MIN_RATE}-{MAX_RATE} accepted)")
    width = bits // 8
    if bits % 8 or width not in _WIDTHS[tag]:
        kind = "float" if tag == _FLOAT else "integer"
        raise refuse(f"{bits}-bit {kind} samples are not supported")
    if block_align != channels * width:
        raise refuse(f"a block size of {block_align} bytes for {channels} x {bits}-bit samples")
    return tag, channels, rate, width, block_align


def _checked(
    fmt: tuple[int, int, int, int, int],
    body: int,
    declared: int,
    present: int,
    refuse: Callable[[str], UndecodableAudio],
) -> WavInfo:
    tag, channels, rate, width, block_align = fmt
    if declared > present:
        raise refuse(f"it declares {declared} bytes of audio but holds {present} (truncated)")
    frames = declared // block_align
    if frames == 0:
        raise refuse("it holds no audio")
    return WavInfo(rate, channels, width, tag == _FLOAT, body, frames)


def _samples(audio: PcmAudio) -> array[int]:
    """Samples as 16-bit ints, channels interleaved."""
    raw, width = audio.pcm, audio.sample_width
    usable = len(raw) - len(raw) % width
    if audio.is_float:
        floats = array("f" if width == 4 else "d", raw[:usable])
        if sys.byteorder == "big":
            floats.byteswap()
        # NaN compares false both ways and lands on 0; infinities clip like loud samples.
        return array("h", (round(min(1.0, max(-1.0, x)) * 32767) if x == x else 0 for x in floats))
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


_WAV_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave")


def decode_to_pcm16_mono(data: bytes, mime_type: str, sample_rate: int, provider: str) -> bytes:
    """What an STT engine wants: mono 16-bit PCM at ``sample_rate`` from whatever came in."""
    if data.startswith(b"RIFF") or mime_type.split(";")[0].strip().lower() in _WAV_TYPES:
        return pcm16_mono_at(inspect_wav(data, provider).audio(data), sample_rate, provider)
    return sox_to_pcm16_mono(data, mime_type, sample_rate, provider)


def pcm16_mono_at(audio: PcmAudio, sample_rate: int, provider: str = "audio") -> bytes:
    """Mono 16-bit PCM at ``sample_rate``.

    sox is preferred for mixing and resampling: the pure-Python fallback aliases enough
    (measured on espeak-ng audio) that PocketSphinx loses words it otherwise gets right. sox is
    handed raw 16-bit samples, never the uploaded header.
    """
    sox = shutil.which("sox")
    ready = audio.sample_rate == sample_rate and audio.channels == 1
    if ready or sox is None:
        return to_pcm16_mono(audio, sample_rate)
    pcm = audio.pcm
    if audio.sample_width != 2 or audio.is_float or sys.byteorder == "big":
        samples = _samples(audio)
        pcm = samples.tobytes() if sys.byteorder == "little" else _swapped(samples)
    cmd = [sox, "-q", "-t", "raw", "-e", "signed-integer", "-b", "16", "-L",
           "-c", str(audio.channels), "-r", str(audio.sample_rate), "-",
           "-t", "raw", "-e", "signed-integer", "-b", "16", "-L",
           "-c", "1", "-r", str(sample_rate), "-"]  # fmt: skip
    proc = subprocess.run(cmd, input=pcm, capture_output=True, timeout=120, check=False)
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip() or f"sox exited {proc.returncode}"
        raise UndecodableAudio(provider, f"cannot resample: {detail}")
    return proc.stdout


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
