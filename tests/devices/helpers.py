"""Pairing a device like a hologram does, and a bare graphql-transport-ws socket that shows
close codes (which a device must act on: 4403 means it was unpaired)."""

from __future__ import annotations

import asyncio
import json
import queue
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

import websockets
from websockets.typing import Subprotocol

from tests.realtime.helpers import ok
from tests.support.graphql import GraphQLClient
from tests.support.server import LiveServer

REQUEST = """
mutation($m: String!, $s: String!, $c: [String!]!) {
  requestDevicePairing(model: $m, serial: $s, capabilities: $c) {
    deviceCode userCode verificationUri expiresIn interval
  }
}
"""
POLL = """
mutation($d: String!) { pollDevicePairing(deviceCode: $d) { status deviceToken deviceId } }
"""
PAIR = """
mutation($u: String!, $n: String!) {
  pairDevice(userCode: $u, name: $n) { id name model online speaks capabilities }
}
"""
HOLOGRAM_EVENTS = """
subscription($after: String, $deviceId: ID) {
  hologramEvents(after: $after, deviceId: $deviceId) {
    __typename
    ... on EventBase { cursor conversationId messageId }
    ... on DeviceCommand { cursor at }
    ... on MessagePosted { message { text role } }
    ... on MessageDelta { seq text }
    ... on AudioChunk { seq url durationMs }
    ... on VisemeFrames { audioSeq }
    ... on ReplyCompleted { message { text status } }
    ... on CompanionSwitched { companionId }
    ... on PlayAnimation { name loop }
    ... on VolumeChanged { volume }
    ... on SleepChanged { asleep }
  }
}
"""
DEVICES = "{ devices { id name online lastSeenAt speaks activeCompanionId capabilities } }"
ASSIGN = """
mutation($d: ID!, $c: ID!) { assignCompanionToDevice(deviceId: $d, companionId: $c) { id } }
"""


async def pair_in_process(
    api: GraphQLClient, owner_token: str, serial: str = "HX-1", name: str = "Desk"
) -> dict[str, Any]:
    codes = (await api.ok(REQUEST, {"m": "holo-1", "s": serial, "c": ["audio"]}))[
        "requestDevicePairing"
    ]
    device = (await api.ok(PAIR, {"u": codes["userCode"], "n": name}, owner_token))["pairDevice"]
    poll = (await api.ok(POLL, {"d": codes["deviceCode"]}))["pollDevicePairing"]
    assert poll["status"] == "APPROVED"
    return {"id": device["id"], "token": poll["deviceToken"]}


def pair_live(
    server: LiveServer, owner_token: str, serial: str = "HX-1", name: str = "Desk"
) -> dict[str, Any]:
    codes = ok(server, REQUEST, {"m": "holo-1", "s": serial, "c": ["audio", "visemes"]})[
        "requestDevicePairing"
    ]
    device = ok(server, PAIR, {"u": codes["userCode"], "n": name}, owner_token)["pairDevice"]
    poll = ok(server, POLL, {"d": codes["deviceCode"]})["pollDevicePairing"]
    assert poll["status"] == "APPROVED"
    return {"id": device["id"], "token": poll["deviceToken"]}


@dataclass
class Closed:
    code: int
    reason: str


class GqlSocket:
    """One graphql-transport-ws connection; ``next`` returns a payload, an error list, or
    ``Closed`` when the server closed the socket."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, server: LiveServer, token: str | None) -> GqlSocket:
        ws = await websockets.connect(
            server.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]
        )
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        return cls(ws)

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any]) -> None:
        await self.ws.send(
            json.dumps(
                {
                    "id": op_id,
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables},
                }
            )
        )

    async def next(self, wait_s: float = 10) -> dict[str, Any] | list[Any] | Closed:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), max(deadline - time.monotonic(), 0))
            except websockets.ConnectionClosed as e:
                rcvd = e.rcvd
                return Closed(rcvd.code if rcvd else 1006, rcvd.reason if rcvd else "")
            message = json.loads(raw)
            if message["type"] == "next":
                if message["payload"].get("errors"):
                    errors: list[Any] = message["payload"]["errors"]
                    return errors
                data: dict[str, Any] = message["payload"]["data"]
                return data
            if message["type"] == "error":
                errs: list[Any] = message["payload"]
                return errs
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))

    async def close(self) -> None:
        await self.ws.close()


def error_code(result: object) -> str:
    assert isinstance(result, list) and result, f"expected errors, got {result}"
    code: str = result[0]["extensions"]["code"]
    return code


async def wait_until(predicate: Any, wait_s: float = 5, step: float = 0.05) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(predicate):
            return
        await asyncio.sleep(step)
    raise AssertionError("condition not met in time")


class Lines:
    """The harness's stdout, line by line, readable with a deadline."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def until(self, prefix: str, wait_s: float) -> str:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no {prefix!r} line in {wait_s} s: {self.seen}") from None
            if line is None:
                raise AssertionError(f"harness exited before {prefix!r}: {self.seen}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line[len(prefix) :].strip()


def wait_online(server: LiveServer, owner_token: str, device_id: str) -> None:
    """The server counts the device online once its stream is live: the reply cannot be missed."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        devices = ok(server, "{ devices { id online } }", token=owner_token)["devices"]
        if any(d["id"] == device_id and d["online"] for d in devices):
            return
        time.sleep(0.05)
    raise AssertionError("the device never came online")
