"""The local model (SmolLM2-135M-Instruct in llama-server): start time, first token, tokens/s,
memory, then the same in a demo conversation through the whole server.

1. The provider alone: starts the model's server, holds a conversation of ``--turns`` turns with
   the demo's companion prompt (pipeline/context.py), and for each reply measures the first
   token (from the request) and the generation rate after it (tokens counted by the model's own
   tokenizer, /tokenize); then the server's RSS.
2. Demo turns: a Holo-Mate server on the embedded default (local model), the same messages sent
   over GraphQL; the reply's stored timings (llmFirstTokenMs, firstAudioMs, totalMs).

    .venv/bin/python -m bench.local_model [--turns 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from pipeline.context import Budget, Character, Turn, TurnInput, build_context
from pipeline.llm.base import ChatMessage
from pipeline.llm.llama_server import ServerOptions
from pipeline.llm.local import PersonaResponder
from pipeline.llm.local_model import LocalModelLLM
from store.migrate import upgrade
from tests.realtime.helpers import TERMINAL, ok, setup_conversation, subscribed_then_sent
from tests.support.server import live_server

MESSAGES = [
    "Hello! Who are you, and what do you love?",
    "What could I look for in the night sky tonight?",
    "I had a long day at work and I'm a bit tired.",
    "Do you think we'll ever travel to Mars?",
    "Tell me something that would make me smile.",
    "What is your favourite constellation, and why?",
    "Thank you, good night!",
]
CARD = Character("Nova", "A warm, curious guide to the night sky.", traits=("kind", "curious"))


def p50(values: list[float]) -> float:
    return statistics.median(values)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def provider_turns(turns: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        llm = LocalModelLLM(PersonaResponder(), ServerOptions(), Path(tmp))
        t0 = time.perf_counter()
        if not await llm.start():
            raise SystemExit(f"the local model did not start: {llm.problem}")
        start_s = time.perf_counter() - t0
        print(f"model server start (with the F16 rewrite if this CPU needs it): {start_s:.2f} s")
        history: list[Turn] = []
        budget = Budget(llm.context_tokens - llm.options.max_reply_tokens)
        firsts, rates, prompts = [], [], []
        try:
            for message in MESSAGES[:turns]:
                history.append(Turn("user", message))
                turn = TurnInput(CARD, "Demo", history)
                messages: list[ChatMessage] = build_context(turn, budget).messages
                prompt_tokens = sum([await llm.count_tokens(m.content) for m in messages])
                start = time.perf_counter()
                first, parts = 0.0, []
                async for fragment in llm.stream(messages):
                    if not parts:
                        first = time.perf_counter() - start
                    parts.append(fragment)
                elapsed = time.perf_counter() - start
                text = "".join(parts)
                tokens = await llm.count_tokens(text)
                rate = (tokens - 1) / (elapsed - first) if elapsed > first and tokens > 1 else 0.0
                firsts.append(first * 1000)
                rates.append(rate)
                prompts.append(prompt_tokens)
                print(
                    f"  turn {len(firsts)}: prompt ~{prompt_tokens} tokens, first token "
                    f"{first * 1000:.0f} ms, {tokens} tokens at {rate:.0f} tokens/s"
                )
                history.append(Turn("assistant", text))
            assert llm.server is not None and llm.server.pid is not None
            print(
                f"provider, {turns} turns: first token p50 {p50(firsts):.0f} ms "
                f"(max {max(firsts):.0f}), {p50(rates):.0f} tokens/s p50, "
                f"llama-server RSS {rss_mib(llm.server.pid):.0f} MiB"
            )
        finally:
            await llm.aclose()


async def demo_turns(turns: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await asyncio.to_thread(upgrade, db)  # alembic runs its own event loop
        env = {"HOLOMATE_LLM_ENGINE": "local", "HOLOMATE_LLM_LOCAL_DIR": f"{tmp}/models"}
        t0 = time.perf_counter()
        with live_server(db, Path(tmp) / "storage", **env) as server:
            print(f"holomate server ready with the model: {time.perf_counter() - t0:.2f} s")
            world = setup_conversation(server, "bench@example.com")
            rows: list[dict[str, Any]] = []
            for message in MESSAGES[:turns]:
                async with subscribed_then_sent(server, world, message) as stream:
                    await stream.until(TERMINAL, within_s=120)
                started = next(e for e in stream.seen if e["__typename"] == "ReplyStarted")
                timings = ok(
                    server,
                    "query($c: ID!) { conversation(id: $c) { messages(last: 1) { nodes { text "
                    "timings { llmFirstTokenMs firstAudioMs totalMs } } } } }",
                    {"c": world["conversation"]},
                    world["token"],
                )["conversation"]["messages"]["nodes"][0]["timings"]
                rows.append(timings)
                print(
                    f"  turn {len(rows)} ({started['model']}): llmFirstTokenMs "
                    f"{timings['llmFirstTokenMs']}, firstAudioMs {timings['firstAudioMs']}, "
                    f"totalMs {timings['totalMs']}"
                )
            print(
                f"demo turns through the server, p50: llmFirstTokenMs "
                f"{p50([r['llmFirstTokenMs'] for r in rows]):.0f}, firstAudioMs "
                f"{p50([r['firstAudioMs'] or 0 for r in rows]):.0f}, totalMs "
                f"{p50([r['totalMs'] for r in rows]):.0f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=5, choices=range(1, len(MESSAGES) + 1))
    args = parser.parse_args()
    asyncio.run(provider_turns(args.turns))
    asyncio.run(demo_turns(args.turns))


if __name__ == "__main__":
    main()
