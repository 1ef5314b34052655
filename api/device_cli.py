"""``holomate register-device``: a stand-in hologram in the terminal.

It asks for a pairing code, shows it the way a device would, polls until the owner approves
(RFC 8628: wait ``interval``, +5 s on SLOW_DOWN), then prints its live ``hologramEvents``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from typing import Any

import httpx
import websockets
from websockets.typing import Subprotocol

REQUEST = """mutation($m: String!, $s: String!, $c: [String!]!) {
  requestDevicePairing(model: $m, serial: $s, capabilities: $c) {
    deviceCode userCode verificationUri expiresIn interval } }"""
POLL = """mutation($d: String!) {
  pollDevicePairing(deviceCode: $d) { status deviceToken deviceId } }"""
EVENTS = """subscription($after: String) { hologramEvents(after: $after) {
  __typename
  ... on EventBase { cursor messageId }
  ... on DeviceCommand { cursor }
  ... on MessagePosted { message { role text } }
  ... on MessageDelta { text }
  ... on AudioChunk { seq url durationMs }
  ... on EmotionChanged { emotion atMs }
  ... on ReplyCompleted { message { text } }
  ... on ReplyFailed { code detail }
  ... on CompanionSwitched { companionId }
  ... on PlayAnimation { name loop }
  ... on VolumeChanged { volume }
  ... on SleepChanged { asleep } } }"""
SLOW_DOWN_STEP_S = 5


def add_parser(sub: Any) -> None:
    cmd = sub.add_parser("register-device", help="pair a simulated hologram and print its stream")
    cmd.add_argument("--url", default="http://127.0.0.1:8000", help="the server (or its /graphql)")
    cmd.add_argument("--model", default="holomate-cli")
    cmd.add_argument("--serial", default=None, help="default: a random one")
    cmd.add_argument("--token", default=None, help="a device token: skip pairing")
    cmd.add_argument("--until-reply", action="store_true", help="stop after one whole reply")
    cmd.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        return 0


async def _main(args: argparse.Namespace) -> int:
    endpoint = args.url.rstrip("/")
    endpoint = endpoint if endpoint.endswith("/graphql") else endpoint + "/graphql"
    async with httpx.AsyncClient(timeout=30) as http:
        token = args.token or await _pair(http, endpoint, args)
    if token is None:
        return 1
    return await _listen(endpoint, token, args.until_reply)


async def _gql(http: httpx.AsyncClient, url: str, query: str, variables: dict[str, Any]) -> Any:
    body = (await http.post(url, json={"query": query, "variables": variables})).json()
    if body.get("errors"):
        raise SystemExit(f"server refused: {body['errors'][0]['message']}")
    return body["data"]


async def _pair(http: httpx.AsyncClient, url: str, args: argparse.Namespace) -> str | None:
    serial = args.serial or f"CLI-{uuid.uuid4().hex[:8].upper()}"
    data = await _gql(http, url, REQUEST, {"m": args.model, "s": serial, "c": ["text", "audio"]})
    codes = data["requestDevicePairing"]
    print(f"USER_CODE {codes['userCode']}")
    print(
        f"To pair this device, open {codes['verificationUri']} and enter {codes['userCode']} "
        f"(or call pairDevice as the owner); it expires in {codes['expiresIn'] // 60} min.",
        flush=True,
    )
    interval = int(codes["interval"])
    while True:
        await asyncio.sleep(interval)
        poll = (await _gql(http, url, POLL, {"d": codes["deviceCode"]}))["pollDevicePairing"]
        status = poll["status"]
        if status == "APPROVED":
            print(f"PAIRED {poll['deviceId']}")
            print(f"Device token (pass it as --token next time): {poll['deviceToken']}", flush=True)
            return str(poll["deviceToken"])
        if status == "SLOW_DOWN":
            interval += SLOW_DOWN_STEP_S
        elif status in ("EXPIRED", "DENIED"):
            print(f"Pairing {status.lower()}.", file=sys.stderr)
            return None


async def _listen(url: str, token: str, until_reply: bool) -> int:
    ws_url = "ws" + url[len("http") :] if url.startswith("http") else url
    async with websockets.connect(ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": token}}))
        if json.loads(await ws.recv())["type"] != "connection_ack":
            print("The server refused the device token.", file=sys.stderr)
            return 1
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": EVENTS}}))
        print("LISTENING (Ctrl-C to stop)", flush=True)
        try:
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                    continue
                if message["type"] in ("error", "complete"):
                    print(f"stream ended: {message.get('payload')}", file=sys.stderr)
                    return 1
                if message["type"] != "next":
                    continue
                event = (message["payload"].get("data") or {}).get("hologramEvents")
                if event is None:
                    print(f"error: {message['payload'].get('errors')}", file=sys.stderr)
                    return 1
                print(_describe(event), flush=True)
                if until_reply and event["__typename"] in ("ReplyCompleted", "ReplyFailed"):
                    return 0 if event["__typename"] == "ReplyCompleted" else 1
        except websockets.ConnectionClosed as e:
            reason = e.rcvd.reason if e.rcvd else "connection lost"
            print(f"closed: {e.rcvd.code if e.rcvd else 1006} {reason}", file=sys.stderr)
            return 1
    return 0


def _describe(event: dict[str, Any]) -> str:
    kind = event["__typename"]
    details = {k: v for k, v in event.items() if k not in ("__typename", "cursor", "messageId")}
    if kind == "MessageDelta":
        return f"{kind} {event['text']!r}"
    return f"{kind} {json.dumps(details, separators=(',', ':'))}"
