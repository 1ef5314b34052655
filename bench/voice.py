"""Voice-to-voice latency of a streamed voice session, offline, and its CPU.

Starts the server (embedded default: SQLite, offline STT and voice), opens a voice session over
graphql-transport-ws and, for each everyday sentence (tests/pipeline/everyday_sentences.txt,
spoken by espeak-ng), streams 1 s of room silence, the sentence and 1.5 s of silence in real
time as 100 ms chunks, as a microphone would. Measured from the end of speech in the streamed
audio (the moment its last voiced chunk was sent) to:

    turn end   VoiceTurnEnded arrives      (the configured silence, ~500 ms, plus the VAD)
    message    MessagePosted arrives       (+ speech-to-text of the whole turn)
    delta      the first MessageDelta      (+ the language model's first token)
    audio      the first AudioChunk        (+ the first sentence's speech): voice-to-voice

p50/p99 of each, the steps between them, the WER of the final transcripts, and CPU: the
server's own process and its worker processes (STT, speech) per second of streamed audio, while
only silence streams (VAD and transport alone) and over the talking rounds.

    .venv/bin/python -m bench.voice [--rounds 10] [--llm responder|local] [--partials 1000]
        [--stt whisper|pocketsphinx] [--voice espeak|piper]

``--voice`` is the companion's voice profile's provider (espeak-ng is the default voice).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from gql.transport.websockets import WebsocketsTransport

from pipeline.vad import EnergyVad, TurnEnd
from store.migrate import upgrade
from tests.pipeline.speech_metrics import normalized_word_error_rate
from tests.realtime.helpers import live_cursor, ok, setup_conversation
from tests.realtime.voice_client import Events, Mic, client, silence, speech_pcm
from tests.support.processes import cpu_seconds, descendants
from tests.support.server import LiveServer, live_server

SENTENCES = Path(__file__).resolve().parents[1] / "tests/pipeline/everyday_sentences.txt"
LEAD_MS, TAIL_MS = 1000, 1500


class Cpu:
    """CPU seconds of the server process and of its workers, between two readings."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.seen: dict[int, float] = {}

    def read(self) -> tuple[float, float]:
        main = workers = 0.0
        for p in descendants(self.pid):
            try:
                self.seen[p] = cpu_seconds(p)
            except OSError:
                pass
        for p, used in self.seen.items():  # workers that exited keep their last reading
            if p == self.pid:
                main += used
            else:
                workers += used
        return main, workers


def speech_end_ms(pcm: bytes) -> int:
    """Where speech ends in the streamed audio, as the server's VAD hears it."""
    vad = EnergyVad()
    ends = [e for e in vad.feed(pcm) if isinstance(e, TurnEnd)]
    return ends[-1].end_ms


async def one_round(mic: Mic, events: Events, sentence: str) -> dict[str, Any]:
    pcm = silence(LEAD_MS) + speech_pcm(sentence) + silence(TAIL_MS)
    end_ms = speech_end_ms(pcm)
    began = time.monotonic()  # the first sample "recorded"; each chunk sent once recorded
    streaming = asyncio.ensure_future(mic.stream(pcm, began=began))
    speech_end = began + end_ms / 1000
    at: dict[str, float] = {}
    final: dict[str, Any] = {}
    while "audio" not in at or "final" not in at:
        event = await events.until_any(60)
        now = time.monotonic()
        kind = event["__typename"]
        if kind == "VoiceTurnEnded":
            at.setdefault("turn", now)
        elif kind == "MessagePosted" and event["message"]["role"] == "USER":
            at.setdefault("message", now)
        elif kind == "VoiceFinalTranscript":
            at["final"], final = now, event
        elif kind == "MessageDelta":
            at.setdefault("delta", now)
        elif kind == "AudioChunk":
            at.setdefault("audio", now)
        elif kind == "ReplyFailed":
            raise RuntimeError(f"reply failed: {event}")
    await streaming
    await events.until("ReplyCompleted", 120)
    return {
        "turn": (at["turn"] - speech_end) * 1000,
        "message": (at["message"] - speech_end) * 1000,
        "delta": (at["delta"] - speech_end) * 1000,
        "audio": (at["audio"] - speech_end) * 1000,
        "wer": normalized_word_error_rate(sentence, final.get("text", "")),
        "streamed_s": len(pcm) / 32000,
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def speak_with(server: LiveServer, world: dict[str, str], provider: str) -> None:
    """The companion speaks with a voice profile of ``provider``."""
    profile = ok(
        server,
        "mutation($p: String!) { createVoiceProfile(input: {name: $p, provider: $p}) { id } }",
        {"p": provider},
        world["token"],
    )["createVoiceProfile"]["id"]
    ok(
        server,
        "mutation($c: ID!, $v: ID!) { updateCompanion(id: $c, input: {voiceProfileId: $v})"
        " { id } }",
        {"c": world["companion"], "v": profile},
        world["token"],
    )


async def run(server: LiveServer, rounds: int, voice: str) -> None:
    sentences = [s for s in SENTENCES.read_text().splitlines() if s.strip()][:rounds]
    world = setup_conversation(server, "bench-voice@example.com")
    if voice != "espeak":
        speak_with(server, world, voice)
    after = live_cursor(server, world)
    cpu = Cpu(server.pid)
    transport = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
    async with client(server.ws_url, world["token"], transport) as session:
        events = Events.follow(session, world["conversation"], after)
        await asyncio.sleep(0.5)
        mic = await Mic.start(session, world["conversation"])
        await mic.stream(silence(3000))  # the STT worker starts (not measured)
        await asyncio.sleep(2)
        main0, workers0 = cpu.read()
        quiet_s = 10.0
        await mic.stream(silence(int(quiet_s * 1000)))
        main1, workers1 = cpu.read()
        results = [await one_round(mic, events, s) for s in sentences]
        main2, workers2 = cpu.read()
        await mic.end()
        await events.aclose()
    streamed = sum(r["streamed_s"] for r in results)
    print(
        f"voice-to-voice, {len(results)} rounds, voice {voice}"
        " (ms from the end of speech in the stream)"
    )
    steps = {
        "end of turn (silence + VAD)": [r["turn"] for r in results],
        "speech-to-text -> message": [r["message"] - r["turn"] for r in results],
        "LLM first token (-> delta)": [r["delta"] - r["message"] for r in results],
        "first audio (after delta)": [r["audio"] - r["delta"] for r in results],
        "VOICE-TO-VOICE (first audio)": [r["audio"] for r in results],
    }
    for label, values in steps.items():
        print(
            f"  {label:30s} p50={statistics.median(values):7.0f}  p99={pct(values, 0.99):7.0f}"
            f"  max={max(values):7.0f}"
        )
    for label in (
        "speech-to-text -> message",
        "LLM first token (-> delta)",
        "first audio (after delta)",
    ):
        print(f"  {label + ', each round':40s}", " ".join(f"{v:.0f}" for v in steps[label]))
    wer = statistics.mean(r["wer"] for r in results)
    print(f"  WER of the final transcripts   {wer:.3f}")
    print("CPU per second of streamed audio (server process / its workers)")
    print(
        f"  silence only (VAD, transport)  {(main1 - main0) / quiet_s * 1000:6.1f} ms"
        f" / {(workers1 - workers0) / quiet_s * 1000:6.1f} ms"
    )
    print(
        f"  talking rounds (all of a turn) {(main2 - main1) / streamed * 1000:6.1f} ms"
        f" / {(workers2 - workers1) / streamed * 1000:6.1f} ms  ({streamed:.0f} s streamed)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--llm", choices=["responder", "local"], default="responder")
    parser.add_argument("--partials", type=int, default=1000, help="partial interval, ms; 0: off")
    parser.add_argument("--stt", default="", help="HOLOMATE_STT_PROVIDER (default: the server's)")
    parser.add_argument("--voice", default="espeak", help="the companion's voice provider")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        upgrade(url)
        with live_server(
            url,
            Path(tmp) / "storage",
            HOLOMATE_LLM_ENGINE=args.llm,
            HOLOMATE_VOICE_PARTIAL_INTERVAL_MS=str(args.partials),
            HOLOMATE_VOICE_IDLE_TIMEOUT_S="60",
            **({"HOLOMATE_STT_PROVIDER": args.stt} if args.stt else {}),
        ) as server:
            asyncio.run(run(server, args.rounds, args.voice))


if __name__ == "__main__":
    main()
