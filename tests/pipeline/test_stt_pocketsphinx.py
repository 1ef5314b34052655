"""Offline transcription: any WAV in, words with timings out; bad audio is a typed error."""

from __future__ import annotations

import pytest

from pipeline.audio import UndecodableAudio, pcm16_to_wav
from pipeline.errors import ProviderBadResponse
from pipeline.stt.base import Transcript
from pipeline.stt.pocketsphinx_stt import PocketsphinxSTT, phrase_grammar, vocabulary_grammar
from pipeline.tts.base import VoiceSettings
from pipeline.tts.espeak import render

SENTENCE = "the quick brown fox jumps over the lazy dog"


async def test_word_timings_are_ordered_and_inside_the_audio() -> None:
    spoken = render(SENTENCE, VoiceSettings())
    stt = PocketsphinxSTT(phrase_grammar([SENTENCE, "hello there"]))
    transcript = await stt.transcribe(pcm16_to_wav(spoken.pcm, spoken.sample_rate), "audio/wav")
    assert transcript.text == SENTENCE
    assert [w.word for w in transcript.words] == SENTENCE.split()
    for a, b in zip(transcript.words, transcript.words[1:], strict=False):
        assert a.start_ms < a.end_ms <= b.start_ms
    assert transcript.words[-1].end_ms <= spoken.duration_ms + 100


async def test_stereo_44k_audio_is_converted() -> None:
    spoken = render(SENTENCE, VoiceSettings())
    # duplicate each sample into two channels and upsample crudely to 44.1 kHz
    mono = spoken.pcm
    frames = b"".join(mono[i : i + 2] * 4 for i in range(0, len(mono), 2))  # 2 ch x 2 samples
    wav = pcm16_to_wav(frames, 44100, channels=2)
    transcript = await PocketsphinxSTT(phrase_grammar([SENTENCE])).transcribe(wav, "audio/wav")
    assert transcript.text == SENTENCE


@pytest.mark.parametrize(
    ("audio", "mime"),
    [
        (b"definitely not audio", "audio/wav"),
        (b"RIFF\x00\x00garbage", "audio/wav"),
        (b"\x00" * 64, "audio/mpeg"),
    ],
)
async def test_undecodable_audio_is_a_clear_typed_error(audio: bytes, mime: str) -> None:
    with pytest.raises(
        UndecodableAudio, match="pocketsphinx: (cannot decode|not a usable WAV file)"
    ) as caught:
        await PocketsphinxSTT().transcribe(audio, mime)
    assert isinstance(caught.value, ProviderBadResponse) and not caught.value.retryable


async def test_silence_gives_an_empty_transcript() -> None:
    wav = pcm16_to_wav(bytes(2 * 16000), 16000)
    for stt in (PocketsphinxSTT(), PocketsphinxSTT(phrase_grammar([SENTENCE]))):
        assert await stt.transcribe(wav, "audio/wav") == Transcript(text="", words=())


def test_grammars_refuse_empty_input_and_unknown_words_fail_on_use() -> None:
    with pytest.raises(ValueError):
        phrase_grammar(["", "  "])
    assert "( brown | dog | fox )*" in vocabulary_grammar(["fox dog", "brown"])


async def test_words_missing_from_the_dictionary_are_named() -> None:
    stt = PocketsphinxSTT(phrase_grammar(["hello zxqvbnm"]))
    with pytest.raises(ValueError, match="zxqvbnm"):
        await stt.transcribe(pcm16_to_wav(bytes(3200), 16000), "audio/wav")
