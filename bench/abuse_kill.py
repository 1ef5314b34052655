"""From a producer's SIGKILL to ``ReplyFailed`` at a subscriber on another process.

Two uvicorn processes on PostgreSQL + Redis. Each run: a subscriber on B follows the
conversation, a message goes to A (the offline model writes slowly, so the reply is mid-way),
A is killed with SIGKILL at the first text delta, and the clock runs until B's subscriber gets
``ReplyFailed`` (REPLY_OWNER_LOST). A's lease then has between ``lease - heartbeat`` and
``lease`` left, and B sweeps every heartbeat: expect ``lease - heartbeat`` to ``lease +
heartbeat``.

    .venv/bin/python -m bench.abuse_kill [--runs 5] [--lease 6 --heartbeat 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from tests.realtime.helpers import TERMINAL, setup_conversation, subscribed_then_sent
from tests.support.databases import fresh_database
from tests.support.server import LiveServer, live_server

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"
LONG = "Tell me a long story about comets, planets and the stars above us please."


async def one_run(a: LiveServer, b: LiveServer, world: dict[str, str]) -> tuple[float, str]:
    async with subscribed_then_sent(b, world, LONG, via=a) as stream:
        await stream.until({"MessageDelta"})
        killed = time.perf_counter()
        os.kill(a.pid, signal.SIGKILL)
        event = await stream.until(TERMINAL, within_s=60)
        elapsed = time.perf_counter() - killed
    return elapsed, f"{event['__typename']} {event.get('code', '')}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lease", type=float, default=6.0, help="HOLOMATE_REPLY_LEASE_S")
    parser.add_argument("--heartbeat", type=float, default=2.0, help="HOLOMATE_REPLY_HEARTBEAT_S")
    args = parser.parse_args()
    os.environ.setdefault("HOLOMATE_TEST_DATABASE_URL", PG)
    env = {
        "HOLOMATE_BROADCAST_URL": os.environ.get("HOLOMATE_TEST_BROADCAST_URL", REDIS),
        "HOLOMATE_BROADCAST_NAMESPACE": f"bench-kill-{uuid.uuid4().hex[:8]}:",
        "HOLOMATE_OFFLINE_LLM_WORD_DELAY_S": "0.1",
        "HOLOMATE_REPLY_LEASE_S": str(args.lease),
        "HOLOMATE_REPLY_HEARTBEAT_S": str(args.heartbeat),
    }
    times: list[float] = []
    with (
        fresh_database() as database_url,
        tempfile.TemporaryDirectory(prefix="bench-kill-") as tmp,
        live_server(database_url, Path(tmp) / "storage", **env) as b,
    ):
        world = setup_conversation(b, "kill@example.com")
        for run in range(args.runs):
            with live_server(database_url, Path(tmp) / "storage", **env) as a:
                elapsed, ending = asyncio.run(one_run(a, b, world))
            times.append(elapsed)
            print(f"run {run + 1}: SIGKILL -> {ending} at the subscriber in {elapsed:5.2f} s")
    print(
        f"SIGKILL -> ReplyFailed: median {statistics.median(times):.2f} s, "
        f"min {min(times):.2f} s, max {max(times):.2f} s over {len(times)} runs "
        f"(lease {args.lease:g} s, heartbeat {args.heartbeat:g} s: expect "
        f"{args.lease - args.heartbeat:g}-{args.lease + args.heartbeat:g} s)"
    )


if __name__ == "__main__":
    main()
