"""Requests per second one client gets before RATE_LIMITED, and what another client sees meanwhile.

Starts the real server (uvicorn, 1 worker, SQLite) with the default rate limits, behind a
"proxy" at 127.0.0.1 (``HOLOMATE_TRUSTED_PROXIES``) so the second client can come from another
address. One client (its own process, 8 keep-alive connections) asks ``me`` with its token as
fast as it can for ``--seconds``; the other, from another IP and account, asks ``me`` at a modest
fixed rate. Prints what the flooder was served before its first refusal and over the whole run,
and the other client's refusals and p50/p99. Runs once on the embedded default (limits in
memory) and once with the limits in Redis (``--redis``, skipped when unreachable).

    .venv/bin/python -m bench.abuse_rate [--seconds 10] [--rate 10] [--redis redis://...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from api.settings import RATE_SETTINGS, Settings
from bench.api_latency import Connection, percentile
from store.migrate import upgrade
from tests.support.limits import redis_url_or_none
from tests.support.server import live_server

ME = json.dumps({"query": "{ me { id } }"}).encode()
DEFAULT_LIMITS = {
    f"HOLOMATE_{name.upper()}": str(Settings.model_fields[name].default) for name in RATE_SETTINGS
}
OTHER_IP = "198.51.100.7"


def request(url: str, token: str, forwarded_for: str = "") -> bytes:
    parsed = httpx.URL(url)
    extra = f"X-Forwarded-For: {forwarded_for}\r\n" if forwarded_for else ""
    return (
        f"POST {parsed.path} HTTP/1.1\r\nHost: {parsed.host}:{parsed.port}\r\n"
        f"Content-Type: application/json\r\nAuthorization: Bearer {token}\r\n{extra}"
        f"Content-Length: {len(ME)}\r\n\r\n"
    ).encode() + ME


async def hammer(url: str, token: str, seconds: float) -> dict[str, float]:
    parsed = httpx.URL(url)
    payload = request(url, token)
    served = refused = 0
    served_before_refusal = 0
    first_refusal_s: float | None = None
    begin = time.perf_counter()
    deadline = begin + seconds

    async def loop() -> None:
        nonlocal served, refused, served_before_refusal, first_refusal_s
        conn = Connection(*await asyncio.open_connection(parsed.host, parsed.port))
        while time.perf_counter() < deadline:
            status, _ = await conn.post(payload)
            if status == 200:
                served += 1
                if first_refusal_s is None:
                    served_before_refusal += 1
            elif status == 429:
                refused += 1
                if first_refusal_s is None:
                    first_refusal_s = time.perf_counter() - begin
            else:
                raise RuntimeError(f"unexpected status {status}")
        conn.writer.close()

    await asyncio.gather(*(loop() for _ in range(8)))
    elapsed = time.perf_counter() - begin
    return {
        "served": served,
        "refused": refused,
        "served_before_refusal": served_before_refusal,
        "first_refusal_s": round(first_refusal_s or elapsed, 3),
        "elapsed_s": round(elapsed, 2),
    }


async def modest(url: str, token: str, rate: float, seconds: float) -> dict[str, float]:
    parsed = httpx.URL(url)
    payload = request(url, token, OTHER_IP)
    conn = Connection(*await asyncio.open_connection(parsed.host, parsed.port))
    latencies: list[float] = []
    refused = 0
    begin = time.perf_counter()
    for i in range(int(rate * seconds)):
        delay = begin + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.perf_counter()
        status, _ = await conn.post(payload)
        latencies.append((time.perf_counter() - sent) * 1000)
        refused += status == 429
    conn.writer.close()
    return {
        "requests": len(latencies),
        "refused": refused,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
    }


def register(url: str, email: str, ip: str = "") -> str:
    headers = {"x-forwarded-for": ip} if ip else {}
    query = (
        f'mutation {{ register(email: "{email}", password: "bench-password", '
        'displayName: "Bench") { accessToken } }'
    )
    body = httpx.post(url, json={"query": query}, headers=headers, timeout=10).json()
    token: str = body["data"]["register"]["accessToken"]
    return token


def run(label: str, seconds: float, rate: float, **env: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        upgrade(database_url)
        with live_server(
            database_url,
            Path(tmp) / "storage",
            HOLOMATE_TRUSTED_PROXIES='["127.0.0.1"]',
            **DEFAULT_LIMITS,  # not the generous ones bench/__init__.py sets for the others
            **env,
        ) as server:
            flooder = register(server.graphql_url, "flood@example.com")
            other = register(server.graphql_url, "other@example.com", OTHER_IP)
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.abuse_rate",
                    "--hammer",
                    server.graphql_url,
                    "--token",
                    flooder,
                    "--seconds",
                    str(seconds),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(0.2)  # the flood is on before the other client starts
            calm = asyncio.run(modest(server.graphql_url, other, rate, seconds - 0.5))
            out, _ = proc.communicate(timeout=seconds + 30)
            flood = json.loads(out.strip().splitlines()[-1])
    before = flood["served_before_refusal"] / max(flood["first_refusal_s"], 1e-3)
    print(
        f"{label}: flooder served {flood['served_before_refusal']} in its first "
        f"{flood['first_refusal_s']} s ({before:.0f}/s) before RATE_LIMITED; over "
        f"{flood['elapsed_s']} s: {flood['served']} served "
        f"({flood['served'] / flood['elapsed_s']:.1f}/s), {flood['refused']} refused (429)",
        flush=True,
    )
    print(
        f"{label}: other client ({OTHER_IP}, {rate:g}/s): {calm['refused']} refused of "
        f"{calm['requests']}, p50 {calm['p50_ms']} ms, p99 {calm['p99_ms']} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--redis", default=redis_url_or_none() or "")
    parser.add_argument("--hammer")
    parser.add_argument("--token")
    args = parser.parse_args()
    if args.hammer:
        print(json.dumps(asyncio.run(hammer(args.hammer, args.token, args.seconds))))
        return
    run("memory", args.seconds, args.rate)
    if args.redis:
        namespace = f"bench-{uuid.uuid4().hex[:8]}:"
        run(
            "redis ",
            args.seconds,
            args.rate,
            HOLOMATE_SHARED_STATE_URL=args.redis,
            HOLOMATE_BROADCAST_NAMESPACE=namespace,
        )
    else:
        print("redis : skipped (no Redis reachable; pass --redis)")


if __name__ == "__main__":
    main()
