"""Latency of `me` and `companions(first: 20)` at a fixed request rate, sent in full and by hash.

Starts the server (uvicorn, 1 worker) on SQLite and then PostgreSQL, and drives it from a
second process at a fixed arrival rate (open loop: a slow answer does not slow the sender,
so queueing shows up in the latency). Prints p50/p99, achieved throughput and the server's
CPU per request (``/proc/<pid>/stat``), for each query sent as its full document and as its
sha256 hash (``extensions.persistedQuery``, the server in trusted mode with these documents).

    .venv/bin/python -m bench.api_latency [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.abuse_cost import cpu_s
from services.trusted_documents import sha256_of
from store.migrate import upgrade
from tests.support.databases import _postgres
from tests.support.server import live_server

QUERIES = {
    "me": "{ me { id email } }",
    "companions(first: 20)": "{ companions(first: 20) { edges { node { id name traits } } } }",
}
REGISTER = (
    'mutation { register(email: "bench@example.com", password: "bench-password", '
    'displayName: "Bench") { accessToken } }'
)
CREATE = (
    "mutation($n: String!) { createCompanion(input: {name: $n, "
    'traits: ["kind", "curious"]}) { id } }'
)
WARM_UP = 50


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Connection:
    """A minimal keep-alive HTTP/1.1 client: httpx costs more CPU than the server under test."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def post(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        body = await self.reader.readexactly(length)
        return int(status_line.split()[1]), body


async def drive(
    url: str, token: str, query: str, rate: int, seconds: float, by_hash: bool = False
) -> dict[str, float]:
    parsed = httpx.URL(url)
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha256_of(query)}}
    payload = json.dumps({"extensions": persisted} if by_hash else {"query": query}).encode()
    request = (
        f"POST {parsed.path} HTTP/1.1\r\nHost: {parsed.host}:{parsed.port}\r\n"
        f"Content-Type: application/json\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(32):
        pool.put_nowait(Connection(*await asyncio.open_connection(parsed.host, parsed.port)))
    latencies: list[float] = []
    errors = 0

    async def one(scheduled: float) -> None:
        # Latency counts from the scheduled send time, so waiting for a free connection
        # (queueing) is included: no coordinated omission.
        nonlocal errors
        conn = await pool.get()
        try:
            status, body = await conn.post(request)
            if status != 200 or b'"errors"' in body:
                errors += 1
        finally:
            pool.put_nowait(conn)
        latencies.append((time.perf_counter() - scheduled) * 1000)

    for _ in range(WARM_UP):  # warm up connections and caches
        await one(time.perf_counter())
    latencies.clear()
    tasks = []
    begin = time.perf_counter()
    total = int(rate * seconds)
    for i in range(total):
        scheduled = begin + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - begin
    while not pool.empty():
        pool.get_nowait().writer.close()
    return {
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "errors": errors,
        "requests": len(latencies),
        "body_bytes": len(payload),
    }


def seed(url: str) -> str:
    with httpx.Client(timeout=10) as client:
        reg = client.post(url, json={"query": REGISTER}).json()
        token: str = reg["data"]["register"]["accessToken"]
        for i in range(20):
            client.post(
                url,
                headers={"authorization": f"Bearer {token}"},
                json={"query": CREATE, "variables": {"n": f"C{i}"}},
            )
    return token


def run_engine(label: str, database_url: str, rate: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        upgrade(database_url)
        manifest = Path(tmp) / "manifest.json"
        documents = [*QUERIES.values(), REGISTER, CREATE]
        manifest.write_text(json.dumps({sha256_of(d): d for d in documents}))
        with live_server(
            database_url,
            Path(tmp) / "storage",
            HOLOMATE_PASSWORD_TIME_COST="1",
            HOLOMATE_DOCUMENTS="trusted",
            HOLOMATE_TRUSTED_DOCUMENTS=str(manifest),
        ) as server:
            token = seed(server.graphql_url)
            for (name, query), sent in itertools.product(QUERIES.items(), ("document", "hash")):
                cpu_before = cpu_s(server.pid)
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.api_latency",
                        "--drive",
                        server.graphql_url,
                        "--token",
                        token,
                        "--query",
                        query,
                        "--rate",
                        str(rate),
                        "--seconds",
                        str(seconds),
                        *(["--by-hash"] if sent == "hash" else []),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                figures = json.loads(out.stdout.strip().splitlines()[-1])
                cpu_us = (cpu_s(server.pid) - cpu_before) / (figures["requests"] + WARM_UP) * 1e6
                print(
                    f"{label:10s} {name:22s} {sent:8s} rate={rate}/s  "
                    f"p50={figures['p50_ms']:6.2f} ms  p99={figures['p99_ms']:6.2f} ms  "
                    f"cpu={cpu_us:5.0f} µs/req  body={figures['body_bytes']:3d} B  "
                    f"throughput={figures['throughput_rps']}/s"
                    f"  errors={figures['errors']}/{figures['requests']}",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--drive")
    parser.add_argument("--token")
    parser.add_argument("--query")
    parser.add_argument("--by-hash", action="store_true")
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    if args.drive:
        print(
            json.dumps(
                asyncio.run(
                    drive(args.drive, args.token, args.query, args.rate, args.seconds, args.by_hash)
                )
            )
        )
        return
    with tempfile.TemporaryDirectory() as tmp:
        run_engine("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", args.rate, args.seconds)
    with _postgres(args.postgres) as url:
        run_engine("postgresql", url, args.rate, args.seconds)


if __name__ == "__main__":
    main()
