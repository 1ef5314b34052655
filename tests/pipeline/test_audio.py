"""The pure-Python audio path used when sox is absent, and the speech-span finder."""

from __future__ import annotations

from array import array

import pytest

from pipeline.audio import (
    PcmAudio,
    UndecodableAudio,
    pcm16_to_wav,
    read_wav,
    speech_bounds_ms,
    to_pcm16_mono,
    wav_duration_ms,
)


def test_wav_roundtrip_and_duration() -> None:
    pcm = array("h", [1000, -1000] * 8000).tobytes()  # 1 s at 16 kHz
    wav = pcm16_to_wav(pcm, 16000)
    assert read_wav(wav) == PcmAudio(pcm, 16000, 1, 2)
    assert wav_duration_ms(wav) == 1000
    with pytest.raises(UndecodableAudio):
        read_wav(b"RIFF not really")


def test_stereo_is_mixed_and_resampled_without_changing_duration() -> None:
    left_right = array("h", [3000, 1000] * 32000).tobytes()  # 1 s stereo at 32 kHz
    mono = array("h", to_pcm16_mono(PcmAudio(left_right, 32000, channels=2), 16000))
    assert len(mono) == 16000
    assert set(mono[10:-10]) == {2000}


def test_8_bit_wav_becomes_signed_16_bit() -> None:
    audio = PcmAudio(bytes([128, 255, 0]), 16000, sample_width=1)
    assert list(array("h", to_pcm16_mono(audio, 16000))) == [0, 127 << 8, -128 << 8]


def test_speech_bounds_skip_leading_and_trailing_silence() -> None:
    pcm = bytes(2 * 1600) + array("h", [8000, -8000] * 1600).tobytes() + bytes(2 * 800)
    assert speech_bounds_ms(pcm, 16000) == (100, 300)
    assert speech_bounds_ms(bytes(3200), 16000) is None
