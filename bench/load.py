"""The product's real shape: N people, each with a conversation, an app and a hologram.

    .venv/bin/python -m bench.load [--people 50,200] [--intervals 8,4,2] [--step-s 20]
                                   [--bursts 10,40,80] [--skip-bare] [--skip-offline]
                                   [--bare-providers http|sdk]

Each person has their own account, companion (an ElevenLabs-shaped voice), conversation and
paired device, and two WebSockets: the app on ``conversationEvents``, the hologram on
``hologramEvents``. Each sends a new message every T seconds (random phase; not while their
last reply is still running). The providers are cloud-like, served by bench/load_providers.py
in a process of its own: OpenAI-compatible SSE chat and ElevenLabs-shaped speech with
character timestamps. The server is one uvicorn worker on the embedded default (SQLite, replay
log) pinned to CPU 0 (taskset-like affinity); providers and clients run on CPU 1.

Per (N, T), over ``--step-s`` seconds: sustained replies/s (completed), replies in flight (mean
by Little's law, and the peak), p50/p99 publish->socket over every event on both sockets (the
event's ``at`` vs. the client's clock), the server's own delay before the first delta (first
delta received minus the LLM's first token sent), server CPU per reply (/proc utime+stime of
the uvicorn pid, the sends' HTTP requests included) and memory per idle person (RSS growth on
connecting them / people). The ladder climbs the rate per N until p99 >= 50 ms; the largest N
and rate under it are reported.

Beside it, the bare pipeline (bench/load_bare.py: the same provider I/O, the same events as
JSON over bare Starlette WebSockets, no GraphQL, no log) at the same steps: CPU per reply ratio.

Then offline speech: companions on the embedded default voice (espeak-ng), the LLM still the
scripted SSE one; 10, 40, 80 people send at once; first delta p50/p99 (send -> first
MessageDelta received) and server delay before it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import signal
import subprocess
import tempfile
import time
from array import array
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from api.settings import RATE_SETTINGS
from bench.client_procs import ClientProcesses
from bench.fanout import cpu_seconds, percentile, pinned, rss_kib, wait_idle
from bench.ws_client import GraphQLWsClient
from store.migrate import upgrade
from tests.support.server import LiveServer, live_server

TARGET_P99_MS = 50.0
FIELDS = """
    __typename
    ... on EventBase { cursor conversationId messageId at }
    ... on MessagePosted { message { id text role } }
    ... on MessageDelta { seq text }
    ... on AudioChunk { seq url mimeType startMs durationMs text }
    ... on VisemeFrames { audioSeq frames { viseme startMs endMs weight } }
    ... on EmotionChanged { emotion intensity atMs }
    ... on ReplyCompleted { message { id text status } }
    ... on ReplyFailed { code detail }
"""
APP = f"subscription($id: ID!) {{ conversationEvents(conversationId: $id) {{ {FIELDS} }} }}"
HOLOGRAM = f"subscription($d: ID) {{ hologramEvents(deviceId: $d) {{ {FIELDS} }} }}"
SEND = "mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id } }"


# ---- client processes ------------------------------------------------------------------------


class Socket(GraphQLWsClient):
    """One graphql-transport-ws connection with one subscription (sans-I/O, cheap)."""

    def __init__(self, person: Person, init: bytes, subscribe: bytes, app: bool) -> None:
        super().__init__(init)
        self.person, self.subscribe, self.app = person, subscribe, app
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def _on_message(self, data: bytes, now: float) -> None:
        if b'"type":"next"' in data:
            start = data.find(b'"at":"')
            if start >= 0 and self.person.owner.measuring:
                start += 6
                self.person.owner.times.append(now)
                self.person.owner.ats.append(data[start : data.index(b'"', start)])
            if self.app:
                self.person.on_app_event(data, now)
        elif b'"type":"connection_ack"' in data:
            self.ws.send_text(self.subscribe)
            if not self.ready.done():
                self.ready.set_result(None)
        elif b'"type":"ping"' in data:
            self.ws.send_text(b'{"type":"pong"}')
        elif b'"type":"error"' in data or b'"type":"complete"' in data:
            self.person.owner.errors.append(data.decode()[:300])

    def _fail(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(why))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(f"connection lost: {exc}")
        if self.person.owner.measuring:
            self.person.owner.errors.append(f"connection lost: {exc}")


@dataclass(eq=False)
class Person:
    owner: Client
    index: int
    info: dict[str, str]
    pending: str | None = None  # the marker of the reply under way
    sent: float = 0.0
    first_delta: float = 0.0
    sockets: list[Socket] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def on_app_event(self, data: bytes, now: float) -> None:
        if self.pending is None:
            return
        if not self.first_delta and b'"__typename":"MessageDelta"' in data:
            self.first_delta = now
        elif b'"__typename":"ReplyDegraded"' in data:
            self.owner.degraded += 1
        elif b'"__typename":"ReplyCompleted"' in data or b'"__typename":"ReplyFailed"' in data:
            failed = b"ReplyFailed" in data
            if failed:
                self.owner.errors.append(data.decode()[:300])
            self.owner.replies.append(
                (self.pending, self.sent, self.first_delta or now, now, failed)
            )
            self.pending, self.first_delta = None, 0.0
            self.done.set()


class Client:
    """The people of one client process and what they saw."""

    def __init__(self) -> None:
        self.people: list[Person] = []
        self.measuring = False
        self.times = array("d")
        self.ats: list[bytes] = []
        self.errors: list[str] = []
        self.replies: list[tuple[str, float, float, float, bool]] = []
        self.skipped = 0
        self.degraded = 0
        self.http: httpx.AsyncClient | None = None
        self.url = ""
        self.bare = False

    async def open(self, port: int, people: list[dict[str, str]], bare: bool) -> list[str]:
        loop = asyncio.get_running_loop()
        self.url, self.bare = f"http://127.0.0.1:{port}", bare
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        self.http = httpx.AsyncClient(timeout=60, limits=limits)
        gate = asyncio.Semaphore(50)

        async def one(person: Person, app: bool) -> None:
            info = person.info
            if bare:
                token = f"{info['person']}:{'app' if app else 'holo'}"
            else:
                token = f"Bearer {info['token'] if app else info['device_token']}"
            init = json.dumps({"type": "connection_init", "payload": {"authorization": token}})
            if app:
                payload = {"query": APP, "variables": {"id": info["conversation"]}}
            else:
                payload = {"query": HOLOGRAM, "variables": {"d": info["device"]}}
            subscribe = json.dumps({"id": "1", "type": "subscribe", "payload": payload})
            async with gate:
                _, sock = await loop.create_connection(
                    lambda: Socket(person, init.encode(), subscribe.encode(), app),
                    "127.0.0.1",
                    port,
                )
                await asyncio.wait_for(sock.ready, 120)
                person.sockets.append(sock)

        new = [Person(self, int(p["person"]), p) for p in people]
        self.people.extend(new)
        results = await asyncio.gather(
            *(one(p, app) for p in new for app in (True, False)), return_exceptions=True
        )
        return [repr(e) for e in results if isinstance(e, BaseException)]

    async def send(self, person: Person, k: int) -> None:
        assert self.http is not None
        marker = f"m{person.index}-{k}"
        text = f"{marker} Tell me about the stars tonight."
        person.pending, person.sent, person.first_delta = marker, time.time(), 0.0
        person.done.clear()
        try:
            if self.bare:
                body: dict[str, Any] = {"person": person.info["person"], "text": text}
                response = await self.http.post(f"{self.url}/send", json=body)
            else:
                body = {"query": SEND, "variables": {"c": person.info["conversation"], "t": text}}
                headers = {"authorization": f"Bearer {person.info['token']}"}
                response = await self.http.post(f"{self.url}/graphql", json=body, headers=headers)
            if response.status_code != 200 or "errors" in response.json():
                self.errors.append(f"send: {response.status_code} {response.text[:200]}")
                person.pending = None
                person.done.set()
        except httpx.HTTPError as e:
            self.errors.append(f"send: {e!r}")
            person.pending = None
            person.done.set()

    def arm(self) -> None:
        self.measuring = True
        self.times, self.ats, self.errors, self.replies = array("d"), [], [], []
        self.skipped = self.degraded = 0

    async def run(self, count: int, interval: float, duration: float, start_at: float) -> None:
        """The first ``count`` people each send every ``interval`` s for ``duration`` s."""
        self.arm()
        tasks = [
            asyncio.create_task(self._person_loop(p, interval, duration, start_at))
            for p in self.people[:count]
        ]
        await asyncio.gather(*tasks)
        await self._drain(30)

    async def _person_loop(
        self, person: Person, interval: float, duration: float, start_at: float
    ) -> None:
        k = 0
        next_at = start_at + random.uniform(0, interval)
        while next_at < start_at + duration:
            await asyncio.sleep(max(0.0, next_at - time.time()))
            if person.pending is not None:
                self.skipped += 1
            else:
                k += 1
                await self.send(person, int(start_at) % 100000 * 1000 + k)
            next_at += interval

    async def burst(self, count: int, start_at: float) -> None:
        """The first ``count`` people send at the same moment; until every reply is over."""
        self.arm()
        await asyncio.sleep(max(0.0, start_at - time.time()))
        await asyncio.gather(
            *(self.send(p, int(start_at) % 100000 * 1000) for p in self.people[:count])
        )
        await self._drain(120)

    async def _drain(self, limit_s: float) -> None:
        try:
            async with asyncio.timeout(limit_s):
                for person in self.people:
                    if person.pending is not None:
                        await person.done.wait()
        except TimeoutError:
            self.errors.append(
                f"{sum(p.pending is not None for p in self.people)} replies unfinished"
            )
        await asyncio.sleep(0.3)  # the hologram's last events
        self.measuring = False

    def results(self) -> tuple[Any, ...]:
        latencies = array("d")
        for received, at in zip(self.times, self.ats, strict=True):
            latencies.append(received - datetime.fromisoformat(at.decode()).timestamp())
        return (
            latencies.tobytes(),
            self.replies,
            self.errors[:5],
            len(self.errors),
            self.skipped,
            self.degraded,
        )

    async def close(self) -> None:
        for person in self.people:
            for sock in person.sockets:
                if sock.transport is not None:
                    sock.transport.close()
        self.people = []
        if self.http is not None:
            await self.http.aclose()
        await asyncio.sleep(0.2)


async def _client_main(conn: Connection) -> None:
    client = Client()
    while True:
        command, *args = await asyncio.to_thread(conn.recv)
        if command == "open":
            conn.send(("opened", await client.open(*args)))
        elif command == "run":
            await client.run(*args)
            conn.send(client.results())
        elif command == "burst":
            await client.burst(*args)
            conn.send(client.results())
        elif command == "close":
            await client.close()
            client = Client()
            conn.send(("closed",))
        elif command == "exit":
            return


class Clients(ClientProcesses):
    """Client processes; each holds a share of the people (person i in process i % procs)."""

    def __init__(self, procs: int) -> None:
        super().__init__(procs, _client_main)
        self.shares = [0] * procs

    def open(self, port: int, people: list[dict[str, str]], bare: bool) -> None:
        procs = len(self.pipes)
        parts = [people[i::procs] for i in range(procs)]
        for i, part in enumerate(parts):
            self.shares[i] += len(part)
        errors = [e for r in self.all(*[("open", port, p, bare) for p in parts]) for e in r[1]]
        if errors:
            raise RuntimeError(f"{len(errors)} sockets failed: {errors[:3]}")

    def close(self) -> None:
        self.same("close")
        self.shares = [0] * len(self.pipes)


# ---- setting people up -------------------------------------------------------------------------


async def _gql(
    http: httpx.AsyncClient, url: str, query: str, variables: dict[str, Any], token: str = ""
) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    for _ in range(5):
        response = await http.post(url, json={"query": query, "variables": variables},
                                    headers=headers)  # fmt: skip
        body = response.json()
        if "errors" not in body:
            return body["data"]
        if "RATE_LIMITED" not in json.dumps(body["errors"]):
            break
        await asyncio.sleep(1)
    raise RuntimeError(body["errors"])


async def _make_person(
    http: httpx.AsyncClient, url: str, i: int, run: str, cloud_voice: bool
) -> dict[str, str]:
    q = {
        "register": 'mutation($e: String!) { register(email: $e, password: "bench-password-1", '
        'displayName: "Bench") { accessToken } }',
        "voice": 'mutation { createVoiceProfile(input: {name: "Cloud", provider: "elevenlabs",'
        ' voiceId: "bench"}) { id } }',
        "companion": 'mutation($v: ID) { createCompanion(input: {name: "Mira", '
        'persona: "A cheerful astronomer", voiceProfileId: $v}) { id } }',
        "start": "mutation($c: ID!) { startConversation(companionId: $c) { id } }",
        "request": 'mutation($s: String!) { requestDevicePairing(model: "holo-1", serial: $s, '
        'capabilities: ["audio", "visemes"]) { deviceCode userCode } }',
        "pair": 'mutation($u: String!) { pairDevice(userCode: $u, name: "Desk") { id } }',
        "poll": "mutation($d: String!) { pollDevicePairing(deviceCode: $d) { status deviceToken "
        "deviceId } }",
        "assign": "mutation($d: ID!, $c: ID!) { assignCompanionToDevice(deviceId: $d, "
        "companionId: $c) { id } }",
    }
    token = (await _gql(http, url, q["register"], {"e": f"load{i}-{run}@example.com"}))["register"][
        "accessToken"
    ]
    voice = None
    if cloud_voice:
        voice = (await _gql(http, url, q["voice"], {}, token))["createVoiceProfile"]["id"]
    companion = (await _gql(http, url, q["companion"], {"v": voice}, token))["createCompanion"][
        "id"
    ]
    conversation = (await _gql(http, url, q["start"], {"c": companion}, token))[
        "startConversation"
    ]["id"]
    codes = (await _gql(http, url, q["request"], {"s": f"HX-{run}-{i}"}))["requestDevicePairing"]
    device = (await _gql(http, url, q["pair"], {"u": codes["userCode"]}, token))["pairDevice"]["id"]
    poll = (await _gql(http, url, q["poll"], {"d": codes["deviceCode"]}))["pollDevicePairing"]
    await _gql(http, url, q["assign"], {"d": device, "c": companion}, token)
    return {
        "person": str(i),
        "token": token,
        "conversation": conversation,
        "device": device,
        "device_token": poll["deviceToken"],
    }


def make_people(server: LiveServer, count: int, cloud_voice: bool) -> list[dict[str, str]]:
    run = str(int(time.time() * 1000) % 10_000_000)

    async def all_people() -> list[dict[str, str]]:
        gate = asyncio.Semaphore(8)
        async with httpx.AsyncClient(timeout=120) as http:

            async def one(i: int) -> dict[str, str]:
                async with gate:
                    return await _make_person(http, server.graphql_url, i, run, cloud_voice)

            return await asyncio.gather(*(one(i) for i in range(count)))

    return asyncio.run(all_people())


# ---- servers -----------------------------------------------------------------------------------


def no_rate_limits() -> dict[str, str]:
    return {
        f"HOLOMATE_{name.upper()}": "100000/second"
        for name in RATE_SETTINGS
        if name.startswith("rate_limit_")
    }


@contextmanager
def providers(rate: float, sentences: int) -> Iterator[LiveServer]:
    with pinned({1}), ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        yield stack.enter_context(
            live_server(
                "sqlite://",
                tmp / "providers",
                app="bench.load_providers:app",
                BENCH_LLM_RATE=str(rate),
                BENCH_LLM_SENTENCES=str(sentences),
            )
        )


BARE_PROVIDERS = ["http"]  # --bare-providers: plain httpx + json, or the SDKs the server uses
PROFILE: dict[str, str] = {}  # --profile: py-spy raw stacks of each Holo-Mate server's run


@contextmanager
def holomate(tmp: Path, provider: LiveServer, name: str, **env: str) -> Iterator[LiveServer]:
    db = tmp / f"{name}.db"
    url = f"sqlite+aiosqlite:///{db}"
    upgrade(url)
    with pinned({0}):
        server_cm = live_server(
            url,
            tmp / f"storage-{name}",
            HOLOMATE_LLM_BASE_URL=f"{provider.url}/v1",
            HOLOMATE_LLM_API_KEY="bench",
            HOLOMATE_ELEVENLABS_API_KEY="bench",
            HOLOMATE_ELEVENLABS_BASE_URL=provider.url,
            HOLOMATE_ACCESS_TOKEN_TTL_S="3600",
            HOLOMATE_LOG_LEVEL="WARNING",
            **no_rate_limits(),
            **env,
        )
        server = server_cm.__enter__()
    profiler = None
    if PROFILE:
        profiler = subprocess.Popen(
            [PROFILE["py_spy"], "record", "--pid", str(server.pid), "--rate", "200", "--format",
             "raw", "--output", f"{PROFILE['out']}.{name}", "--nonblocking", "--gil"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        yield server
    finally:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(60)
        server_cm.__exit__(None, None, None)


@contextmanager
def bare(tmp: Path, provider: LiveServer) -> Iterator[LiveServer]:
    with pinned({0}):
        server_cm = live_server(
            "sqlite://",
            tmp / "storage-bare",
            app="bench.load_bare:app",
            HOLOMATE_LLM_BASE_URL=f"{provider.url}/v1",
            HOLOMATE_ELEVENLABS_BASE_URL=provider.url,
            BENCH_BARE_PROVIDERS=BARE_PROVIDERS[0],
        )
        server = server_cm.__enter__()
    try:
        yield server
    finally:
        server_cm.__exit__(None, None, None)


# ---- measuring -----------------------------------------------------------------------------------


@dataclass
class Step:
    label: str
    people: int
    interval: float
    replies_s: float = 0.0
    in_flight_mean: float = 0.0
    in_flight_max: int = 0
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    overhead_p50_ms: float = float("nan")
    overhead_p99_ms: float = float("nan")
    first_p50_ms: float = float("nan")
    first_p99_ms: float = float("nan")
    cpu_ms: float = float("nan")
    replies: int = 0
    failed: int = 0
    skipped: int = 0
    degraded: int = 0  # replies that said ReplyDegraded (audio later or text-only)
    events: int = 0
    errors: int = 0
    load: str = ""

    def line(self) -> str:
        return (
            f"{self.label:8s} N={self.people:<5d} T={self.interval:<5g} "
            f"{self.replies_s:6.1f} replies/s, in flight {self.in_flight_mean:5.1f} "
            f"(max {self.in_flight_max:3d}), publish->socket p50 {self.p50_ms:6.1f} "
            f"p99 {self.p99_ms:7.1f} ms, before 1st delta p50 {self.overhead_p50_ms:6.1f} "
            f"p99 {self.overhead_p99_ms:7.1f} ms, send->1st delta p50 {self.first_p50_ms:6.1f} "
            f"p99 {self.first_p99_ms:7.1f}, CPU {self.cpu_ms:6.1f} ms/reply "
            f"({self.replies} replies, {self.failed} failed, {self.degraded} degraded, "
            f"{self.skipped} skipped, "
            f"{self.errors} errors; load {self.load})"
        )


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def summarise(
    step: Step, results: list[Any], provider: LiveServer, cpu: float, window: float
) -> Step:
    latencies: list[float] = []
    replies: list[tuple[str, float, float, float, bool]] = []
    for raw, people_replies, errors, error_count, skipped, degraded in results:
        step.degraded += degraded
        latencies.extend(array("d", raw))
        replies.extend(people_replies)
        step.errors += error_count
        step.skipped += skipped
        if errors:
            print(f"      ! {errors[:2]}")
    first_token = httpx.get(f"{provider.url}/stats", timeout=30).json()
    ok = [r for r in replies if not r[4]]
    step.replies, step.failed, step.events = len(ok), len(replies) - len(ok), len(latencies)
    if latencies:
        step.p50_ms = percentile(latencies, 50) * 1000
        step.p99_ms = percentile(latencies, 99) * 1000
    overheads = [(r[2] - first_token[r[0]]) * 1000 for r in ok if r[0] in first_token]
    if overheads:
        step.overhead_p50_ms = percentile(overheads, 50)
        step.overhead_p99_ms = percentile(overheads, 99)
    firsts = [(r[2] - r[1]) * 1000 for r in ok]
    if firsts:
        step.first_p50_ms, step.first_p99_ms = percentile(firsts, 50), percentile(firsts, 99)
    step.replies_s = len(ok) / window
    step.in_flight_mean = sum(r[3] - r[1] for r in ok) / window
    edges = sorted([(r[1], 1) for r in replies] + [(r[3], -1) for r in replies])
    level = 0
    for _, delta in edges:
        level += delta
        step.in_flight_max = max(step.in_flight_max, level)
    step.cpu_ms = cpu / max(len(ok), 1) * 1000
    step.load = loadavg()
    return step


def run_step(
    label: str,
    server: LiveServer,
    provider: LiveServer,
    clients: Clients,
    people: int,
    interval: float,
    duration: float,
) -> Step:
    wait_idle(server.pid)
    start_at = time.time() + 1.0
    before = cpu_seconds(server.pid)
    counts = clients.split(people)
    results = clients.all(*[("run", c, interval, duration, start_at) for c in counts])
    window = time.time() - start_at
    cpu = cpu_seconds(server.pid) - before
    step = summarise(Step(label, people, interval), results, provider, cpu, window)
    print(f"    {step.line()}", flush=True)
    return step


def run_burst(
    label: str, server: LiveServer, provider: LiveServer, clients: Clients, people: int
) -> Step:
    wait_idle(server.pid)
    start_at = time.time() + 0.5
    before = cpu_seconds(server.pid)
    results = clients.all(*[("burst", c, start_at) for c in clients.split(people)])
    window = time.time() - start_at
    cpu = cpu_seconds(server.pid) - before
    step = summarise(Step(label, people, 0), results, provider, cpu, window)
    print(f"    {step.line()}", flush=True)
    return step


def connect(
    server: LiveServer, clients: Clients, people: list[dict[str, str]], bare: bool
) -> float:
    """Open both sockets of every person; KiB of server memory per idle person."""
    wait_idle(server.pid)
    before = rss_kib(server.pid)
    clients.open(server.port, people, bare)
    wait_idle(server.pid)
    return (rss_kib(server.pid) - before) / max(len(people), 1)


def idle_cpu(pid: int, seconds: float = 10.0) -> float:
    """The server's CPU share while every socket is open and nobody talks (heartbeats, pings)."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds


def ladder(
    label: str,
    server: LiveServer,
    provider: LiveServer,
    clients: Clients,
    people: list[dict[str, str]],
    ns: list[int],
    intervals: list[float],
    duration: float,
    bare_mode: bool,
    only: set[tuple[int, float]] | None = None,
) -> tuple[list[Step], dict[int, float]]:
    """Per N (ascending): connect the people up to N, then faster rates until p99 >= target."""
    steps: list[Step] = []
    memory: dict[int, float] = {}
    connected = 0
    for n in ns:
        kib = connect(server, clients, people[connected:n], bare_mode)
        memory[n] = kib * (n - connected) / n if n else 0.0
        connected = n
        idle = idle_cpu(server.pid)
        print(f"    {label} N={n}: {kib:.1f} KiB per idle person (2 sockets); idle, the server "
              f"uses {idle * 100:.1f}% of a core", flush=True)  # fmt: skip
        for interval in intervals:
            if only is not None and (n, interval) not in only:
                continue
            step = run_step(label, server, provider, clients, n, interval, duration)
            steps.append(step)
            if only is None and not step.p99_ms < TARGET_P99_MS:
                break
    clients.close()
    return steps, memory


def report_ladder(
    graphql: list[Step], bare_steps: list[Step], mem: dict[int, float], bare_mem: dict[int, float]
) -> None:
    print()
    print("Cloud providers (SSE LLM + ElevenLabs-shaped TTS on CPU 1), server on CPU 0:")
    header = (
        f"{'N':>5} {'T s':>5} | {'rep/s':>6} {'inflt':>5} {'max':>4} {'p50':>6} {'p99':>6} "
        f"{'pre1':>6} {'pre99':>6} {'CPU ms':>7} | {'rep/s':>6} {'p99':>6} {'CPU ms':>7} | "
        f"{'CPU x':>5} {'load':>14}"
    )
    bare_name = f"bare pipeline ({BARE_PROVIDERS[0]})"
    print(f"{'':11} | {'GraphQL (real path)':^55} | {bare_name:^22} |")
    print(header)
    bare_by = {(s.people, s.interval): s for s in bare_steps}
    for g in graphql:
        b = bare_by.get((g.people, g.interval)) or Step("bare", g.people, g.interval)
        ratio = g.cpu_ms / b.cpu_ms if b.cpu_ms > 0 else float("nan")
        print(
            f"{g.people:>5} {g.interval:>5g} | {g.replies_s:>6.1f} {g.in_flight_mean:>5.1f} "
            f"{g.in_flight_max:>4d} {g.p50_ms:>6.1f} {g.p99_ms:>6.1f} {g.overhead_p50_ms:>6.1f} "
            f"{g.overhead_p99_ms:>6.1f} {g.cpu_ms:>7.1f} | "
            f"{b.replies_s:>6.1f} {b.p99_ms:>6.1f} {b.cpu_ms:>7.1f} | {ratio:>5.2f} {g.load:>14}"
        )
    for n, kib in mem.items():
        print(f"memory per idle person (2 sockets), N={n}: GraphQL {kib:.1f} KiB, "
              f"bare {bare_mem.get(n, float('nan')):.1f} KiB")  # fmt: skip
    good = [g for g in graphql if g.p99_ms < TARGET_P99_MS and not g.failed and not g.errors]
    if good:
        best = max(good, key=lambda g: (g.people, g.replies_s))
        print(
            f"largest under p99 < {TARGET_P99_MS:.0f} ms: N={best.people} at one message per "
            f"{best.interval:g} s each = {best.replies_s:.1f} replies/s, "
            f"{best.in_flight_mean:.1f} in flight (max {best.in_flight_max})"
        )
    else:
        print(f"no step met p99 < {TARGET_P99_MS:.0f} ms")


def compare(before: list[Step], after: list[Step]) -> None:
    """The same steps of two runs side by side (before | after)."""
    earlier = {(s.label, s.people, s.interval): s for s in before}
    print("\nbefore | after (same steps):")
    for a in after:
        b = earlier.get((a.label, a.people, a.interval))
        if b is None:
            continue
        pairs = [
            ("replies/s", b.replies_s, a.replies_s),
            ("p99 ms", b.p99_ms, a.p99_ms),
            ("1st delta p50", b.first_p50_ms, a.first_p50_ms),
            ("1st delta p99", b.first_p99_ms, a.first_p99_ms),
            ("pre-delta p99", b.overhead_p99_ms, a.overhead_p99_ms),
            ("CPU ms/reply", b.cpu_ms, a.cpu_ms),
        ]
        cells = ", ".join(f"{name} {x:.1f} | {y:.1f}" for name, x, y in pairs)
        print(f"  {a.label} N={a.people} T={a.interval:g}: {cells}; "
              f"failed {b.failed} | {a.failed}, degraded {b.degraded} | {a.degraded}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", default="10,50,200", help="ladder of N (ascending)")
    parser.add_argument("--intervals", default="16,8,4,2", help="seconds between messages, per N")
    parser.add_argument("--step-s", type=float, default=15, help="seconds of load per step")
    parser.add_argument("--bursts", default="10,40,80", help="offline speech: people at once")
    parser.add_argument("--rate", type=float, default=40, help="LLM tokens per second")
    parser.add_argument("--sentences", type=int, default=3, help="sentences per reply")
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--skip-bare", action="store_true")
    parser.add_argument(
        "--bare-providers",
        choices=["http", "sdk"],
        default="http",
        help="the bare pipeline calls the providers with plain httpx, or the official SDKs",
    )
    parser.add_argument("--skip-cloud", action="store_true")
    parser.add_argument("--skip-offline", action="store_true")
    parser.add_argument(
        "--speech-workers", help="offline speech: HOLOMATE_SPEECH_WORKERS (0: in the server)"
    )
    parser.add_argument("--profile", help="py-spy raw stacks of the servers to <this>.<name>")
    parser.add_argument("--py-spy", default="py-spy", help="py-spy executable")
    parser.add_argument("--save", help="write every step's figures to this JSON file")
    parser.add_argument("--compare", help="a --save file (e.g. before a change): side by side")
    args = parser.parse_args()
    saved: list[Step] = []
    BARE_PROVIDERS[0] = args.bare_providers
    if args.profile:
        PROFILE.update(out=args.profile, py_spy=args.py_spy)
    ns = [int(n) for n in args.people.split(",") if n]
    intervals = [float(t) for t in args.intervals.split(",") if t]
    bursts = [int(n) for n in args.bursts.split(",") if n]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with pinned({0}):
        pass  # from here on this process and its children (clients) run off CPU 0
    print(f"load average at start: {loadavg()}", flush=True)
    started = time.monotonic()
    clients = Clients(args.procs)
    try:
        with (
            tempfile.TemporaryDirectory() as tmp_name,
            providers(args.rate, args.sentences) as provider,
        ):
            tmp = Path(tmp_name)
            if not args.skip_cloud:
                with holomate(tmp, provider, "cloud") as server:
                    t = time.monotonic()
                    people = make_people(server, max(ns), cloud_voice=True)
                    print(f"    {len(people)} people set up in {time.monotonic() - t:.0f} s")
                    graphql, mem = ladder(
                        "graphql", server, provider, clients, people, ns, intervals,
                        args.step_s, bare_mode=False,
                    )  # fmt: skip
                bare_steps: list[Step] = []
                bare_mem: dict[int, float] = {}
                if not args.skip_bare:
                    with bare(tmp, provider) as server:
                        ran = {(g.people, g.interval) for g in graphql}
                        bare_steps, bare_mem = ladder(
                            "bare", server, provider, clients, people, ns, intervals,
                            args.step_s, bare_mode=True, only=ran,
                        )  # fmt: skip
                report_ladder(graphql, bare_steps, mem, bare_mem)
                saved += graphql + bare_steps
            if not args.skip_offline and bursts:
                print()
                speech = {"HOLOMATE_SPEECH_WORKERS": args.speech_workers or ""}
                if not args.speech_workers:
                    speech = {}
                with holomate(tmp, provider, "offline", **speech) as server:
                    people = make_people(server, max(bursts), cloud_voice=False)
                    connect(server, clients, people, bare=False)
                    steps = [run_burst("espeak", server, provider, clients, k) for k in bursts]
                    clients.close()
                saved += steps
                print("Offline speech (espeak-ng), everyone at once; scripted SSE LLM:")
                for s in steps:
                    print(
                        f"  {s.people:>3} at once: send->first delta p50 {s.first_p50_ms:.0f} ms,"
                        f" p99 {s.first_p99_ms:.0f} ms; server before 1st delta p50 "
                        f"{s.overhead_p50_ms:.0f} / p99 {s.overhead_p99_ms:.0f} ms; CPU "
                        f"{s.cpu_ms:.0f} ms/reply (speech workers' CPU not counted); {s.replies} "
                        f"ok, {s.failed} failed, {s.degraded} degraded "
                        f"(load {s.load})"
                    )
    finally:
        clients.stop()
    if args.save:
        Path(args.save).write_text(json.dumps([asdict(step) for step in saved], indent=1))
    if args.compare:
        compare([Step(**step) for step in json.loads(Path(args.compare).read_text())], saved)
    print(f"whole run {time.monotonic() - started:.0f} s; load average at end: {loadavg()}")


if __name__ == "__main__":
    main()
