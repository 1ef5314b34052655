"""Fan-out of one reply to many subscribers of ONE conversation, against a bare baseline.

    .venv/bin/python -m bench.fanout [--max 5000] [--reply-max 1000]

The server runs as in production on the embedded default (uvicorn, 1 worker, SQLite, in-process
broadcast, SQL replay log, `--ws-per-message-deflate false`). Its LLM is an OpenAI-compatible
endpoint run here (chat-completions SSE, 150 tokens in 15 tagged sentences at `--rate` tokens/s),
so one `sendMessage` makes ~85 events through the real path (150 tokens become ~50 deltas, as
deltas are batched every 50 ms; 15 audio chunks, viseme tracks and emotions): LLM → deltas,
espeak-ng audio, visemes, emotions → SQL log → hub → Strawberry → WebSocket.

Subscribers are raw graphql-transport-ws connections (websockets' sans-I/O protocol on asyncio,
so the clients cost little CPU) spread over `--procs` client processes. Each subscribes with
`after` = the cursor before the log's newest entry, so the one replayed event proves that the
subscription is live before anything is measured. The server is pinned to CPU 0, clients and the
LLM to CPU 1, so client work does not steal the server's core.

Both servers run side by side, each with N subscribers, and take turns (a GraphQL reply, a
bare replay, ...; `--rounds` each, medians reported), so both see the machine in the same state.

Figures per N: p50/p99 of publish→receive (the event's `at` vs. the client's `time.time()`),
deliveries per second, server CPU µs per delivery (from /proc/<pid>/stat; the reply's own cost,
measured with no subscriber, is subtracted), server RSS per idle subscriber. The baseline
(bench/bare_broadcast.py) replays the same schedule of event sizes to the same clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from bench.client_procs import ClientProcesses
from bench.scripted_reply import reply_tokens, sse
from bench.ws_client import GraphQLWsClient
from store.db import events_file
from store.migrate import upgrade
from tests.support.server import LiveServer, live_server

EVENTS = """subscription Events($id: ID!, $after: String) {
  conversationEvents(conversationId: $id, after: $after) {
    __typename
    ... on EventBase { cursor conversationId messageId at }
    ... on MessagePosted { message { id text role } }
    ... on MessageDelta { seq text }
    ... on AudioChunk { seq url mimeType startMs durationMs text }
    ... on VisemeFrames { audioSeq frames { viseme startMs endMs weight } }
    ... on EmotionChanged { emotion intensity atMs }
    ... on ReplyCompleted { message { id text status timings { firstDeltaMs totalMs } } }
    ... on ReplyInterrupted { heardText message { id text status } }
    ... on ReplyFailed { code detail }
  }
}"""
ROUNDS = 3  # replies per N (--rounds); figures are the medians
PROFILE: dict[str, Any] = {}  # --profile: py-spy (raw stacks) during the reply at the largest N
TARGET_P99_MS = 50.0
TARGET_CPU_RATIO = 1.5
TARGET_KIB = 50.0
# 15 sentences of 10 words, each led by an emotion tag: 150 deltas, 15 audio chunks, 15 viseme
# tracks and 15 emotion changes, ~200 events with the framing ones.
SENTENCES = 15


# ---- the fake LLM: chat-completions SSE on a thread of this process --------------------------


class FakeLLM:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.port = 0
        self._ready = threading.Event()
        threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True).start()
        self._ready.wait(10)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _serve(self) -> None:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await server.serve_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        length = 0
        await reader.readline()
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"cache-control: no-cache\r\nconnection: close\r\n\r\n"
        )
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i, token in enumerate(reply_tokens(SENTENCES)):
            delay = start + i / self.rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            writer.write(sse(token).encode())
            await writer.drain()
        writer.write(sse(None, "stop").encode() + b"data: [DONE]\n\n")
        await writer.drain()
        writer.close()


# ---- client processes: many raw graphql-transport-ws connections each -----------------------


class Subscriber(GraphQLWsClient):
    """One WebSocket, one subscription; records (receive time, `at`) of each event once armed."""

    def __init__(self, init: bytes, subscribe: bytes, deflate: bool) -> None:
        super().__init__(init, deflate)
        self.subscribe = subscribe
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.armed = False
        self.stage = 0  # 0 handshake, 1 await ack, 2 await the replayed event, 3 live
        self.times = array("d")
        self.ats: list[bytes] = []
        self.sizes: list[tuple[int, bytes]] = []
        self.keep_sizes = False

    def arm(self, keep_sizes: bool) -> None:
        self.armed, self.keep_sizes = True, keep_sizes
        self.times, self.ats, self.sizes = array("d"), [], []
        if self.done.done() and not self.done.cancelled() and self.done.exception() is None:
            self.done = asyncio.get_running_loop().create_future()

    def _initialised(self) -> None:
        self.stage = 1

    def _on_message(self, data: bytes, now: float) -> None:
        if b'"type":"next"' in data:
            if self.stage == 2:
                self.stage = 3
                if not self.ready.done():
                    self.ready.set_result(None)
            elif self.armed:
                start = data.index(b'"at":"') + 6
                self.times.append(now)
                self.ats.append(data[start : data.index(b'"', start)])
                if self.keep_sizes:
                    type_start = data.index(b'"__typename":"') + 14
                    self.sizes.append((len(data), data[type_start : data.index(b'"', type_start)]))
                if b'"__typename":"ReplyCompleted"' in data and not self.done.done():
                    self.done.set_result(None)
        elif b'"type":"connection_ack"' in data and self.stage == 1:
            self.ws.send_text(self.subscribe)
            self.stage = 2
        elif b'"type":"ping"' in data:
            self.ws.send_text(b'{"type":"pong"}')
        elif b'"type":"error"' in data or b'"type":"complete"' in data:
            self._fail(data.decode()[:300])

    def _fail(self, why: str) -> None:
        for future in (self.ready, self.done):
            if not future.done():
                future.set_exception(RuntimeError(why))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(f"connection lost: {exc}")
        for future in (self.ready, self.done):
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: a closed subscriber is not an error here


async def open_subscribers(
    port: int, count: int, token: str, conversation: str, after: str | None, deflate: bool
) -> tuple[list[Subscriber], list[str]]:
    loop = asyncio.get_running_loop()
    init = json.dumps({"type": "connection_init", "payload": {"authorization": token}}).encode()
    payload = {"query": EVENTS, "variables": {"id": conversation, "after": after}}
    subscribe = json.dumps({"id": "1", "type": "subscribe", "payload": payload}).encode()
    gate = asyncio.Semaphore(50)  # connections being set up at once, per process

    async def one() -> Subscriber:
        async with gate:
            _, sub = await loop.create_connection(
                lambda: Subscriber(init, subscribe, deflate), "127.0.0.1", port
            )
            await asyncio.wait_for(sub.ready, 120)
            return sub

    results = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    subs = [s for s in results if isinstance(s, Subscriber)]
    return subs, [repr(e) for e in results if isinstance(e, BaseException)]


async def _client_main(conn: Connection) -> None:
    subs: list[Subscriber] = []
    while True:
        command, *args = await asyncio.to_thread(conn.recv)
        if command == "open":
            subs, errors = await open_subscribers(*args)
            conn.send(("opened", len(subs), errors[:3]))
        elif command == "arm":  # a new round: forget what the last reply brought
            for i, sub in enumerate(subs):
                sub.arm(keep_sizes=i == 0)
            conn.send(("armed",))
        elif command == "collect":
            (timeout,) = args
            finished, problems = 0, []
            try:
                async with asyncio.timeout(timeout):
                    for sub in subs:
                        try:
                            await sub.done
                            finished += 1
                        except RuntimeError as e:
                            problems.append(str(e))
            except TimeoutError:
                problems.append("timed out")
            if problems:
                print(f"    ! client: {len(problems)} subscribers failed: {problems[:2]}")
            latencies = array("d")
            last = 0.0
            for sub in subs:
                for received, at in zip(sub.times, sub.ats, strict=True):
                    latencies.append(received - datetime.fromisoformat(at.decode()).timestamp())
                if sub.times:
                    last = max(last, sub.times[-1])
            schedule = []
            if subs:  # the first subscriber's events, to replay the same shape on the baseline
                for (size, typename), at in zip(subs[0].sizes, subs[0].ats, strict=True):
                    at_s = datetime.fromisoformat(at.decode()).timestamp()
                    schedule.append((at_s, size, typename.decode()))
            conn.send(("collected", finished, latencies.tobytes(), last, schedule))
        elif command == "close":
            for sub in subs:
                if sub.transport is not None:
                    sub.transport.close()
            subs = []
            await asyncio.sleep(0.2)
            conn.send(("closed",))
        elif command == "exit":
            return


class Clients(ClientProcesses):
    """`procs` client processes holding the subscribers."""

    def __init__(self, procs: int) -> None:
        super().__init__(procs, _client_main)

    def open(
        self,
        port: int,
        n: int,
        token: str,
        conversation: str,
        after: str | None,
        deflate: bool = False,
    ) -> int:
        shares = self.split(n)
        opens = [("open", port, s, token, conversation, after, deflate) for s in shares]
        replies = self.all(*opens)
        errors = [e for r in replies for e in r[2]]
        if errors:
            print(f"    ! {sum(s for s in shares) - sum(r[1] for r in replies)} failed: {errors}")
        return sum(r[1] for r in replies)


# ---- measuring the server process ------------------------------------------------------------


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of the process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def main_thread_seconds(pid: int) -> float:
    """CPU of the event loop's thread alone (the process's first thread)."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    return sum(cpu_times(pid))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def wait_idle(pid: int, quiet_s: float = 0.5, limit_s: float = 60) -> None:
    """Until the server spends under 2% CPU over `quiet_s`: pending work (subscribes) is done."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(quiet_s)
        if cpu_seconds(pid) - before <= 0.02 * quiet_s + 0.011:
            return


@contextmanager
def pinned(cpus: set[int]) -> Iterator[None]:
    """Children started inside inherit `cpus`; afterwards this process runs on the others."""
    everything = os.sched_getaffinity(0)
    if len(everything) < 2:
        yield
        return
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, (everything - cpus) or everything)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@dataclass
class Figures:
    n: int
    connected: int
    p50_ms: float
    p99_ms: float
    deliveries: int
    per_s: float
    cpu_us: float
    kib_per_sub: float
    finished: int
    sys_share: float  # of the server's CPU during the reply: kernel (socket writes, mostly)


def one_round(
    clients: Clients,
    pid: int,
    n: int,
    connected: int,
    kib: float,
    trigger: Any,
    fixed_cpu: float,
) -> tuple[Figures, list[tuple[float, int, str]]]:
    """One reply to the open subscribers: its latencies, rate and CPU per delivery."""
    clients.same("arm")
    user_before, sys_before = cpu_times(pid)
    cpu_before = user_before + sys_before
    main_before = main_thread_seconds(pid)
    started = time.time()
    profiler = None
    if PROFILE.get("out") and n == PROFILE.get("n") and not PROFILE.get(PROFILE.get("label")):
        PROFILE[PROFILE.get("label")] = True  # the first round only
        profiler = subprocess.Popen(
            [
                PROFILE["py_spy"],
                "record",
                "--pid",
                str(pid),
                "--rate",
                "1000",
                "--format",
                "raw",
                "--output",
                f"{PROFILE['out']}.{PROFILE.get('label', 'server')}",
                "--nonblocking",
                "--gil",  # only the thread running Python: CPU, not waits
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)
    trigger()
    replies = clients.same("collect", 30 + n * 0.15)
    user_after, sys_after = cpu_times(pid)
    cpu = user_after + sys_after - cpu_before
    sys_share = (sys_after - sys_before) / max(cpu, 1e-9)
    if os.environ.get("BENCH_THREADS"):
        main = main_thread_seconds(pid) - main_before
        print(f"      n={n}: cpu {cpu:.2f} s, event loop thread {main:.2f} s", flush=True)
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(30)
    latencies: list[float] = []
    for reply in replies:
        latencies.extend(array("d", reply[2]))
    last = max(r[3] for r in replies)
    sizes = next((r[4] for r in replies if r[4]), [])
    deliveries = len(latencies)
    figures = Figures(
        n=n,
        connected=connected,
        p50_ms=percentile(latencies, 50) * 1000 if latencies else float("nan"),
        p99_ms=percentile(latencies, 99) * 1000 if latencies else float("nan"),
        deliveries=deliveries,
        per_s=deliveries / max(last - started, 1e-9),
        cpu_us=max(cpu - fixed_cpu, 0.0) / max(deliveries, 1) * 1e6,
        kib_per_sub=kib,
        finished=sum(r[1] for r in replies),
        sys_share=sys_share,
    )
    print(
        f"      {PROFILE.get('label', '')} n={n}: p50 {figures.p50_ms:.1f} ms, "
        f"p99 {figures.p99_ms:.1f} ms, {figures.cpu_us:.1f} us/delivery",
        flush=True,
    )
    return figures, sizes


def median_figures(rounds: list[Figures]) -> Figures:
    """Each figure's median over the rounds (replies), so one noisy reply does not decide."""

    def mid(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    first = rounds[0]
    return Figures(
        n=first.n,
        connected=first.connected,
        p50_ms=mid([r.p50_ms for r in rounds]),
        p99_ms=mid([r.p99_ms for r in rounds]),
        deliveries=int(mid([r.deliveries for r in rounds])),
        per_s=mid([r.per_s for r in rounds]),
        cpu_us=mid([r.cpu_us for r in rounds]),
        kib_per_sub=first.kib_per_sub,
        finished=min(r.finished for r in rounds),
        sys_share=mid([r.sys_share for r in rounds]),
    )


# ---- the GraphQL server ----------------------------------------------------------------------


def gql(server: LiveServer, query: str, variables: dict[str, Any], token: str = "") -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = httpx.post(
        server.graphql_url,
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=30,
    ).json()
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return body["data"]


def setup(server: LiveServer) -> tuple[str, str]:
    token = gql(
        server,
        'mutation { register(email: "fanout@example.com", password: "bench-password", '
        'displayName: "Bench") { accessToken } }',
        {},
    )["register"]["accessToken"]
    companion = gql(
        server,
        'mutation { createCompanion(input: {name: "Mira", persona: "A cheerful astronomer"}) '
        "{ id } }",
        {},
        token,
    )["createCompanion"]["id"]
    conversation = gql(
        server,
        "mutation($c: ID!) { startConversation(companionId: $c) { id } }",
        {"c": companion},
        token,
    )["startConversation"]["id"]
    return token, conversation


class Log:
    """The server's replay log (its own SQLite file beside the database), read directly: the
    newest cursor and event type of the (one) conversation's channel. Other channels share the
    id sequence, so filter by channel."""

    def __init__(self, database: Path) -> None:
        self.db = sqlite3.connect(events_file(str(database)), timeout=10)

    def newest(self, skip: int = 0) -> tuple[int, str]:
        row = self.db.execute(
            "SELECT id, payload FROM event_log WHERE channel LIKE 'conversation:%' "
            "ORDER BY id DESC LIMIT 1 OFFSET ?",
            (skip,),
        ).fetchone()
        return (0, "") if row is None else (int(row[0]), json.loads(row[1])["type"])

    def resume_cursor(self) -> str:
        """A cursor that replays exactly the newest event (ids interleave across channels)."""
        return str(self.newest(skip=1)[0])

    def wait_reply_done(self, since: int, limit_s: float = 60) -> int:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            newest, kind = self.newest()
            if newest > since and kind in ("ReplyCompleted", "ReplyFailed", "ReplyInterrupted"):
                if kind != "ReplyCompleted":
                    raise RuntimeError(f"reply ended with {kind}")
                return newest
            time.sleep(0.05)
        raise RuntimeError("reply did not finish")

    def count_since(self, since: int) -> int:
        return int(
            self.db.execute(
                "SELECT count(*) FROM event_log WHERE channel LIKE 'conversation:%' AND id > ?",
                (since,),
            ).fetchone()[0]
        )


SEND = "mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id } }"


@dataclass
class Side:
    """One server under test (the GraphQL app or the bare baseline) with its own clients."""

    label: str
    clients: Clients
    server: LiveServer
    trigger: Callable[[], None]  # one reply (GraphQL) or one replay of its schedule (bare)
    after: Callable[[], str | None] = lambda: None  # the cursor subscribers resume from
    token: str = ""
    conversation: str = ""
    fixed: float = 0.0  # CPU of one reply with nobody listening
    connected: int = 0
    kib: float = 0.0

    def open(self, n: int, deflate: bool = False) -> None:
        pid = self.server.pid
        wait_idle(pid)
        rss_before = rss_kib(pid)
        self.connected = self.clients.open(
            self.server.port, n, self.token, self.conversation, self.after(), deflate
        )
        wait_idle(pid)
        self.kib = (rss_kib(pid) - rss_before) / max(self.connected, 1)

    def round(self, n: int) -> tuple[Figures, list[tuple[float, int, str]]]:
        PROFILE["label"] = self.label
        wait_idle(self.server.pid)
        return one_round(
            self.clients, self.server.pid, n, self.connected, self.kib, self.trigger, self.fixed
        )

    def close(self) -> None:
        self.clients.same("close")
        if self.label == "bare":
            httpx.post(f"{self.server.url}/reset", timeout=10)  # end its connection tasks

    def memory_only(self, n: int, deflate: bool = False) -> Figures:
        self.open(n, deflate)
        self.close()
        nan = float("nan")
        return Figures(n, self.connected, nan, nan, 0, nan, nan, self.kib, self.connected, nan)


def start_graphql(
    stack: ExitStack,
    clients: Clients,
    llm: FakeLLM,
    tmp: Path,
    name: str = "bench",
    deflate: bool = False,
) -> tuple[Side, int]:
    """The real app, on a database of its own; also returns the number of events per reply."""
    db = tmp / f"{name}.db"
    url = f"sqlite+aiosqlite:///{db}"
    upgrade(url)
    with pinned({0}):
        server = stack.enter_context(
            live_server(
                url,
                tmp / f"storage-{name}",
                ws_per_message_deflate=deflate,
                HOLOMATE_LLM_BASE_URL=llm.base_url,
                HOLOMATE_ACCESS_TOKEN_TTL_S="3600",
                HOLOMATE_LOG_LEVEL="WARNING",
            )
        )
    token, conversation = setup(server)
    log = Log(db)

    def send() -> None:
        gql(server, SEND, {"c": conversation, "t": "Tell me about the stars."}, token)

    side = Side("graphql", clients, server, send, log.resume_cursor, token, conversation)
    # Warm up (espeak, caches), then the reply's own cost with nobody listening.
    costs: list[float] = []
    events = 0
    for i in range(3):
        wait_idle(server.pid)
        since, _ = log.newest()
        before = cpu_seconds(server.pid)
        send()
        log.wait_reply_done(since)
        wait_idle(server.pid)
        if i:
            costs.append(cpu_seconds(server.pid) - before)
        events = log.count_since(since)
    side.fixed = min(costs)
    return side, events


def start_bare(
    stack: ExitStack, clients: Clients, tmp: Path, schedule: list[tuple[float, int, str]]
) -> Side:
    """The baseline, replaying ``schedule`` (filled in later, by the first GraphQL reply)."""
    with pinned({0}):
        server = stack.enter_context(
            live_server("sqlite://", tmp / "bare", app="bench.bare_broadcast:app")
        )

    def publish() -> None:
        first = schedule[0][0]
        events = [[round(at - first, 6), size, typename] for at, size, typename in schedule]
        httpx.post(f"{server.url}/publish", json={"events": events}, timeout=10)

    return Side("bare", clients, server, publish)


def measure_bare_fixed(bare: Side, schedule: list[tuple[float, int, str]]) -> None:
    """The schedule's own cost with nobody listening, as for the GraphQL reply."""
    before = cpu_seconds(bare.server.pid)
    bare.trigger()
    time.sleep(schedule[-1][0] - schedule[0][0] + 0.5)
    bare.fixed = cpu_seconds(bare.server.pid) - before


def run(
    ns: list[int], sides: tuple[Side, Side], schedule: list[tuple[float, int, str]], reply_max: int
) -> tuple[list[Figures], list[Figures]]:
    """Per N, both servers hold N subscribers and take turns: GraphQL reply, bare replay, ...
    so both see the machine in the same state (a sequential run drifts by tens of percent)."""
    graphql, bare = sides
    results: tuple[list[Figures], list[Figures]] = ([], [])
    for n in ns:
        if n > reply_max:
            for side, out in zip(sides, results, strict=True):
                out.append(side.memory_only(n))
                print(f"    {side.label} {out[-1]}", flush=True)
            continue
        graphql.open(n)
        rounds: tuple[list[Figures], list[Figures]] = ([], [])
        figures, seen = graphql.round(n)
        rounds[0].append(figures)
        if not schedule:
            schedule.extend(seen)
            measure_bare_fixed(bare, schedule)
        bare.open(n)
        for i in range(ROUNDS):
            if i:
                rounds[0].append(graphql.round(n)[0])
            rounds[1].append(bare.round(n)[0])
        graphql.close()
        bare.close()
        for side, side_rounds, out in zip(sides, rounds, results, strict=True):
            out.append(median_figures(side_rounds))
            print(f"    {side.label} {out[-1]}", flush=True)
    return results


def fmt(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}"


def report(
    graphql: list[Figures],
    bare: list[Figures],
    deflate: Figures | None,
    fixed: float,
    events: int,
    rate: float,
    fresh: tuple[Figures, Figures],
) -> None:
    print()
    print(
        f"One reply = {events} events (LLM {rate:.0f} tokens/s) to N subscribers of one "
        f"conversation; uvicorn 1 worker on CPU 0, clients on CPU 1. The reply itself costs "
        f"{fixed:.2f} CPU s (LLM client, espeak, SQL log), subtracted from CPU/delivery."
    )
    head = (
        f"{'N':>5} | {'p50 ms':>7} {'p99 ms':>7} {'deliv/s':>8} {'CPU us/d':>8} {'KiB/sub':>7} |"
        f" {'p50 ms':>7} {'p99 ms':>7} {'deliv/s':>8} {'CPU us/d':>8} {'KiB/sub':>7} |"
        f" {'CPU x':>5} {'mem x':>5}"
    )
    print(f"{'':5} | {'GraphQL (Strawberry, real path)':^42} | {'bare Starlette broadcast':^42} |")
    print(head)
    print("-" * len(head))
    for g, b in zip(graphql, bare, strict=True):
        # CPU is read in 10 ms clock ticks: at N=1 either side may read ~0 (no ratio then).
        cpu_x = g.cpu_us / b.cpu_us if b.cpu_us >= 0.01 else float("nan")
        mem_x = g.kib_per_sub / b.kib_per_sub if b.kib_per_sub > 0 else float("nan")
        print(
            f"{g.n:>5} | {fmt(g.p50_ms):>7} {fmt(g.p99_ms):>7} {g.per_s:>8.0f} "
            f"{fmt(g.cpu_us):>8} {fmt(g.kib_per_sub):>7} | {fmt(b.p50_ms):>7} {fmt(b.p99_ms):>7} "
            f"{b.per_s:>8.0f} {fmt(b.cpu_us):>8} {fmt(b.kib_per_sub):>7} | "
            f"{fmt(cpu_x, 2):>5} {fmt(mem_x, 2):>5}"
        )
        if g.finished != g.connected or b.finished != b.connected or g.connected != g.n:
            print(
                f"      ! connected {g.connected}/{b.connected} of {g.n}, finished "
                f"{g.finished}/{b.finished}"
            )
    fresh_g, fresh_b = fresh
    print(
        f"idle memory on a fresh server, N={fresh_g.n}: GraphQL {fmt(fresh_g.kib_per_sub)} KiB/sub,"
        f" bare {fmt(fresh_b.kib_per_sub)} KiB/sub, "
        f"x{fmt(fresh_g.kib_per_sub / fresh_b.kib_per_sub, 2)} (KiB/sub in the table: later "
        "rounds reuse memory freed by earlier ones)"
    )
    if deflate is not None:
        print(
            f"idle memory on a fresh server with per-message deflate on, N={deflate.n}: "
            f"{fmt(deflate.kib_per_sub)} KiB/sub"
        )
    print()
    at_1000 = next(((g, b) for g, b in zip(graphql, bare, strict=True) if g.n == 1000), None)
    if at_1000 is None:
        print("targets: need N=1000 in the run")
        return
    g, b = at_1000
    checks = [
        (
            f"1000 subscribers p99 < {TARGET_P99_MS:.0f} ms",
            g.p99_ms < TARGET_P99_MS,
            f"{fmt(g.p99_ms)} ms",
        ),
        (
            f"CPU/delivery <= {TARGET_CPU_RATIO}x bare",
            g.cpu_us <= TARGET_CPU_RATIO * b.cpu_us,
            f"{fmt(g.cpu_us / b.cpu_us, 2)}x ({fmt(g.cpu_us)} vs {fmt(b.cpu_us)} us)",
        ),
        (
            f"idle subscriber < {TARGET_KIB:.0f} KiB (fresh, N={fresh_g.n})",
            fresh_g.kib_per_sub < TARGET_KIB,
            f"{fmt(fresh_g.kib_per_sub)} KiB",
        ),
    ]
    for name, ok, value in checks:
        print(f"target {name:42s} {value:28s} {'met' if ok else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max", type=int, default=5000, help="largest N")
    parser.add_argument("--rate", type=float, default=100, help="LLM tokens per second")
    parser.add_argument("--procs", type=int, default=4, help="client processes")
    parser.add_argument(
        "--reply-max", type=int, default=1000, help="above this N, measure idle memory only"
    )
    parser.add_argument("--rounds", type=int, default=3, help="replies per N (medians)")
    parser.add_argument("--no-deflate", action="store_true", help="skip the deflate-on run")
    parser.add_argument("--graphql-only", action="store_true", help="skip the baseline")
    parser.add_argument(
        "--profile", help="py-spy raw stacks of the largest N to <this>.graphql and <this>.bare"
    )
    parser.add_argument("--py-spy", default="py-spy", help="py-spy executable")
    args = parser.parse_args()
    global ROUNDS
    ROUNDS = max(1, args.rounds)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # children inherit it
    ns = [n for n in (1, 100, 1000, 2000, 5000) if n <= args.max]
    if args.max not in ns:
        ns.append(args.max)
    with pinned({0}):
        pass  # from here on this process, the LLM thread and the clients run off CPU 0
    if args.profile:
        largest = max(n for n in ns if n <= args.reply_max)
        PROFILE.update(out=args.profile, n=largest, py_spy=args.py_spy)
    llm = FakeLLM(args.rate)
    clients = [Clients(args.procs) for _ in range(2)]  # one pool per server: both stay open
    try:
        with tempfile.TemporaryDirectory() as tmp_name, ExitStack() as stack:
            tmp = Path(tmp_name)
            # Idle memory on servers of its own: thousands of sockets opened and closed leave a
            # heap that slows the rounds that follow, and the rounds must not shrink the figure.
            with ExitStack() as fresh_stack:
                side, _ = start_graphql(fresh_stack, clients[0], llm, tmp, name="fresh")
                fresh_g = side.memory_only(ns[-1])
            print(f"    graphql fresh {fresh_g}", flush=True)
            graphql, events = start_graphql(stack, clients[0], llm, tmp)
            schedule: list[tuple[float, int, str]] = []
            if args.graphql_only:  # profiling the app alone; the ratios then read 1.00
                results = []
                for n in ns:
                    graphql.open(n)
                    results.append(median_figures([graphql.round(n)[0] for _ in range(ROUNDS)]))
                    graphql.close()
                report(results, results, None, graphql.fixed, events, args.rate, (fresh_g, fresh_g))
                return
            with ExitStack() as fresh_stack:
                fresh_b = start_bare(fresh_stack, clients[1], tmp, []).memory_only(ns[-1])
            print(f"    bare fresh {fresh_b}", flush=True)
            bare = start_bare(stack, clients[1], tmp, schedule)
            on_graphql, on_bare = run(ns, (graphql, bare), schedule, args.reply_max)
            deflate = None
            if not args.no_deflate:  # idle memory only: its CPU cost would add minutes
                with ExitStack() as deflate_stack:
                    side, _ = start_graphql(
                        deflate_stack, clients[0], llm, tmp, name="deflate", deflate=True
                    )
                    deflate = side.memory_only(min(1000, args.max), deflate=True)
            report(
                on_graphql, on_bare, deflate, graphql.fixed, events, args.rate, (fresh_g, fresh_b)
            )
    finally:
        for pool in clients:
            pool.stop()


if __name__ == "__main__":
    main()
