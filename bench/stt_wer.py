"""Offline speech-to-text accuracy and cost: ``python -m bench.stt_wer``.

Prints the word error rate on the 25 everyday sentences (tests/pipeline/everyday_sentences.txt)
spoken by espeak-ng and, when installed, by Piper, then on a few of them under added noise
(white noise at 20/10/5 dB SNR, a 50 Hz hum, a second voice talking 10 dB under the first,
each on both voices),
for Whisper (the embedded default) and PocketSphinx (the fallback). Scoring is in spoken form
("I've" = "I have", "10" = "ten"), as Whisper's own evaluation normalises; the raw rate is
printed beside it. Then Whisper's real-time factor (decoding time over audio time, in this
process, on as many threads as a server's worker has: ``--threads``) and the peak resident
memory of a process that loaded it.

``--engines whisper`` skips PocketSphinx; ``--compute-type float32`` and ``--beam-size 1``
compare Whisper's options.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import statistics
import time
from array import array
from collections.abc import Callable
from pathlib import Path

from pipeline.audio import pcm16_mono_at, pcm16_to_wav, read_wav
from pipeline.stt.pocketsphinx_stt import PocketsphinxSTT
from pipeline.stt.process_pool import WORKER_THREADS
from pipeline.stt.whisper_stt import WhisperSTT
from pipeline.tts import piper_tts
from pipeline.tts.base import VoiceSettings
from pipeline.tts.espeak import render
from tests.pipeline.speech_metrics import (
    normalized_word_error_rate,
    spoken_form,
    word_error_rate,
)

RATE = 16000
EVERYDAY = (
    (Path(__file__).parent.parent / "tests/pipeline/everyday_sentences.txt")
    .read_text()
    .splitlines()
)
NOISY = EVERYDAY[:8]
Transcribe = Callable[[bytes], str]


def espeak(text: str) -> bytes:
    spoken = render(text, VoiceSettings())
    return pcm16_mono_at(read_wav(pcm16_to_wav(spoken.pcm, spoken.sample_rate)), RATE)


def piper(text: str) -> bytes:
    spoken = piper_tts.render(text, VoiceSettings())
    return pcm16_mono_at(read_wav(pcm16_to_wav(spoken.pcm, spoken.sample_rate)), RATE)


def _power(samples: array[int]) -> float:
    return sum(s * s for s in samples) / max(1, len(samples))


def _mix(pcm: bytes, noise: list[float]) -> bytes:
    samples = array("h", pcm)
    return array(
        "h", (max(-32768, min(32767, round(s + n))) for s, n in zip(samples, noise, strict=False))
    ).tobytes()


def white(snr_db: float) -> Callable[[bytes], bytes]:
    def add(pcm: bytes) -> bytes:
        std = math.sqrt(_power(array("h", pcm)) / 10 ** (snr_db / 10))
        gauss = random.Random(7).gauss
        return _mix(pcm, [gauss(0, std) for _ in range(len(pcm) // 2)])

    return add


def hum(pcm: bytes) -> bytes:
    """Mains hum and its harmonic at 10 dB SNR, as from a cheap microphone's ground loop."""
    amplitude = math.sqrt(2 * _power(array("h", pcm)) / 10)

    def at(i: int) -> float:
        t = 2 * math.pi * i / RATE
        return amplitude * (0.7 * math.sin(50 * t) + 0.3 * math.sin(150 * t))

    return _mix(pcm, [at(i) for i in range(len(pcm) // 2)])


def second_voice(pcm: bytes) -> bytes:
    """Another person talking 10 dB under the speaker (a television, a café)."""
    other = array("h", espeak("the market opens early on sunday and closes at noon") * 3)
    scale = math.sqrt(_power(array("h", pcm)) / max(1.0, _power(other)) / 10)
    return _mix(pcm, [scale * s for s in other])


def measure(label: str, transcribe: Transcribe, sentences: list[str], audio: list[bytes]) -> None:
    errors = raw = 0.0
    words = 0
    for sentence, pcm in zip(sentences, audio, strict=True):
        heard = transcribe(pcm)
        n = len(spoken_form(sentence).split())
        errors += normalized_word_error_rate(sentence, heard) * n
        raw += word_error_rate(sentence, heard) * n
        words += n
    print(f"  {label:50s} WER {errors / words:.3f}  (raw {raw / words:.3f}, {words} words)")


def whisper_cost(stt: WhisperSTT, audio: list[bytes]) -> None:
    factors, total_audio, total_decode = [], 0.0, 0.0
    for pcm in audio:
        seconds = len(pcm) / 2 / RATE
        started = time.perf_counter()
        stt.transcribe_pcm_now(pcm)
        took = time.perf_counter() - started
        factors.append(took / seconds)
        total_audio, total_decode = total_audio + seconds, total_decode + took
    p50 = statistics.median(factors)
    print(
        f"  real-time factor {total_decode / total_audio:.2f} overall, p50 {p50:.2f}, "
        f"max {max(factors):.2f} per sentence ({total_audio / len(audio):.1f} s of audio each)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="whisper,pocketsphinx")
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument(
        "--threads", type=int, default=WORKER_THREADS, help="0: every core (the server: 1)"
    )
    args = parser.parse_args()
    engines = args.engines.split(",")
    voices = {"espeak-ng": espeak} | ({"piper": piper} if piper_tts.installed() else {})
    audio = {name: [speak(s) for s in EVERYDAY] for name, speak in voices.items()}
    noises: dict[str, Callable[[bytes], bytes]] = {
        "white noise 20 dB SNR": white(20),
        "white noise 10 dB SNR": white(10),
        "white noise 5 dB SNR": white(5),
        "50 Hz hum 10 dB SNR": hum,
        "second voice 10 dB under": second_voice,
    }
    noisy = {
        f"{voice}, {label}": [add(pcm) for pcm in pcms[: len(NOISY)]]
        for voice, pcms in audio.items()
        for label, add in noises.items()
    }
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stts: dict[str, Transcribe] = {}
    if "whisper" in engines:
        whisper = WhisperSTT(
            beam_size=args.beam_size, threads=args.threads, compute_type=args.compute_type
        )
        started = time.perf_counter()
        whisper.warm_up()
        load_s = time.perf_counter() - started
        stts[f"whisper ({args.compute_type}, beam {args.beam_size})"] = lambda pcm: (
            whisper.transcribe_pcm_now(pcm).text
        )
    if "pocketsphinx" in engines:
        sphinx = PocketsphinxSTT()

        def sphinx_text(pcm: bytes) -> str:
            return sphinx.transcribe_now(pcm16_to_wav(pcm, RATE), "audio/wav").text

        stts["pocketsphinx"] = sphinx_text
    for name, transcribe in stts.items():
        print(f"{name}:")
        for voice, pcms in audio.items():
            measure(f"25 everyday sentences, {voice}", transcribe, EVERYDAY, pcms)
        for label, pcms in noisy.items():
            measure(f"{len(NOISY)} sentences, {label}", transcribe, NOISY, pcms)
    if "whisper" in engines:
        print(f"whisper cost: model load {load_s:.1f} s")
        whisper_cost(whisper, audio["espeak-ng"])
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            f"  peak RSS of this process {peak_kb / 1024:.0f} MB "
            f"({(peak_kb - before_kb) / 1024:.0f} MB over the audio and TTS before loading)"
        )


if __name__ == "__main__":
    main()
