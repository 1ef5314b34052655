"""The figures issue 10 asks for, one after the other, each from its own module:

- ``bench.abuse_cost``: the most expensive request the server accepts on a heavy account
  (server CPU, peak RSS, response size);
- ``bench.abuse_voice``: another user's ``me`` latency while a 5-minute voice message is
  transcribed;
- ``bench.abuse_rate``: requests per second one client gets before ``RATE_LIMITED``, and what
  a second client sees meanwhile;
- ``bench.abuse_kill``: from a producer's SIGKILL to ``ReplyFailed`` at a subscriber on another
  process (PostgreSQL + Redis).

Each runs in a process of its own (they start servers and measure CPU), so one failing still
lets the others print.

    .venv/bin/python -m bench.abuse [--only cost,voice,rate,kill]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

PARTS = ("cost", "voice", "rate", "kill")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts")
    args = parser.parse_args()
    failed = []
    for part in args.only.split(","):
        if part not in PARTS:
            parser.error(f"unknown part {part!r}; choose from {', '.join(PARTS)}")
        print(f"\n=== bench.abuse_{part} ===", flush=True)
        if subprocess.call([sys.executable, "-m", f"bench.abuse_{part}"]) != 0:
            failed.append(part)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
