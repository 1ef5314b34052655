"""``holomate demo``: the main job in one command.

Creates a user and a companion on a running server (or on an embedded one it starts), sends
a message and prints the live stream as it arrives. It follows the stream as any client should:
from the conversation's ``liveCursor`` (nothing missed, nothing twice), and when the server says
``CURSOR_EXPIRED`` (its replay log lost what came next) it reloads the conversation and
subscribes again from the new ``liveCursor``, so the reply still ends whole on screen.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import websockets

from pipeline.ports import free_port

SUBSCRIPTION = """
subscription($id: ID!, $after: String) { conversationEvents(conversationId: $id, after: $after) {
  __typename
  ... on EventBase { cursor messageId }
  ... on ReplyStarted { model fallback }
  ... on MessageDelta { seq text }
  ... on AudioChunk { seq url startMs durationMs text }
  ... on VisemeFrames { audioSeq frames { viseme startMs endMs } }
  ... on EmotionChanged { emotion intensity atMs }
  ... on ReplyDegraded { reason detail }
  ... on ReplyCompleted { message { id text } }
  ... on ReplyInterrupted { heardText }
  ... on ReplyFailed { code detail retryable }
} }
"""
RELOAD = """
query($c: ID!) { conversation(id: $c) { liveCursor messages(last: 1) { nodes { id role status text }
} } }
"""
TERMINAL = ("ReplyCompleted", "ReplyInterrupted", "ReplyFailed")
CONVERSATION = [
    "Hello! I love green tea and my sister Lena is an astronomer. Who are you?",
    "What could I look for in the night sky tonight?",
]
MEMORIES = """
query($c: ID!) { memories(companionId: $c, first: 20) { nodes { text kind importance } } }
"""
MEMORY_WAIT_S = 5.0  # memories form in the background after each turn
TIMINGS = """
query($c: ID!) { conversation(id: $c) { messages(last: 1) { edges { node { timings {
  sttMs llmFirstTokenMs firstDeltaMs firstAudioMs firstVisemeMs totalMs } } } } } }
"""


def add_parser(sub: Any) -> None:
    demo = sub.add_parser("demo", help="talk to a companion and print the live reply stream")
    demo.add_argument(
        "--url",
        default="http://127.0.0.1:8000/graphql",
        help="a running server (its address or /graphql); if none answers, an embedded one starts",
    )
    demo.add_argument(
        "--message",
        action="append",
        help="what to say (repeat for more turns); default: a short conversation",
    )
    demo.set_defaults(run=run, conversation=CONVERSATION)
    streaming = sub.add_parser(
        "test-streaming", help="send one message and print the event stream with timings"
    )
    streaming.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    streaming.add_argument("--message", action="append", help="what to say (repeatable)")
    streaming.set_defaults(run=run, conversation=["Hello! Tell me something about the stars."])


def run(args: argparse.Namespace) -> int:
    with _server(graphql_url(args.url)) as url:
        return asyncio.run(_demo(url, args.message or args.conversation))


def graphql_url(url: str) -> str:
    """The server's address works as well as its GraphQL endpoint."""
    url = url.rstrip("/")
    return url if url.endswith("/graphql") else f"{url}/graphql"


@contextlib.contextmanager
def _server(url: str) -> Iterator[str]:
    base = url.rsplit("/graphql", 1)[0]
    try:
        if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
            yield url
            return
    except httpx.HTTPError:
        pass
    print(f"no server at {base}: starting an embedded one (SQLite in a temp dir)\n")
    with tempfile.TemporaryDirectory(prefix="holomate-demo-") as tmp:
        os.environ.setdefault("HOLOMATE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp}/demo.db")
        os.environ.setdefault("HOLOMATE_STORAGE_DIR", f"{tmp}/storage")
        import uvicorn

        from api.settings import get_settings

        get_settings.cache_clear()
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                "api.asgi:app",
                host="127.0.0.1",
                port=port,
                log_level="warning",
                ws_per_message_deflate=False,
                ws_max_size=get_settings().max_ws_frame_bytes,  # as holomate serve
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 90  # start-up includes the local model's server
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}/graphql"
        finally:
            server.should_exit = True
            thread.join(10)


async def _demo(url: str, messages: list[str]) -> int:
    async with httpx.AsyncClient(timeout=30) as http:

        async def call(query: str, variables: dict[str, Any], token: str | None = None) -> Any:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            response = await http.post(
                url, json={"query": query, "variables": variables}, headers=headers
            )
            try:
                body = response.json()
            except ValueError:
                raise SystemExit(
                    f"{url} answered {response.status_code} without GraphQL: is it Holo-Mate?"
                ) from None
            if body.get("errors"):
                raise SystemExit(f"server said: {body['errors'][0]['message']}")
            return body["data"]

        email = f"demo-{secrets.token_hex(4)}@example.com"
        token = (
            await call(
                "mutation($e: String!) { register(email: $e, password: "
                '"demo-password-123", displayName: "Ada") { accessToken } }',
                {"e": email},
            )
        )["register"]["accessToken"]
        companion = await call(
            'mutation { createCompanion(input: {name: "Nova", persona: '
            '"A warm, curious guide to the night sky.", traits: '
            '["kind", "curious"]}) { id name } }',
            {},
            token,
        )
        conversation = (
            await call(
                "mutation($c: ID!) { startConversation(companionId: $c) { id } }",
                {"c": companion["createCompanion"]["id"]},
                token,
            )
        )["startConversation"]["id"]
        print(f"user {email} · companion Nova · conversation {conversation}")
        models: list[str] = []
        for message in messages:
            models.append(await _turn(call, url, token, conversation, message))
        print(f"\nanswered by: {', '.join(dict.fromkeys(models))}")
        await _remembered(call, token, companion["createCompanion"]["id"])
    return 0


async def _remembered(call: Call, token: str, companion: str) -> None:
    """Print what Nova remembers about the person now (memories(companionId), the same list a
    memory view shows); any new conversation with Nova recalls these into its prompt."""
    deadline = time.monotonic() + MEMORY_WAIT_S
    while True:
        nodes = (await call(MEMORIES, {"c": companion}, token))["memories"]["nodes"]
        if nodes or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.25)
    print("Nova remembers:" if nodes else "Nova remembers nothing yet.")
    for memory in nodes:
        print(f"  - {memory['text']} ({memory['kind']}, importance {memory['importance']:.1f})")


Call = Callable[..., Awaitable[Any]]


async def _turn(call: Call, url: str, token: str, conversation: str, message: str) -> str:
    """Send one message and print its reply live; returns which model answered."""
    # Race-free: everything after this cursor arrives, however late we subscribe.
    cursor = (await call(RELOAD, {"c": conversation}, token))["conversation"]["liveCursor"]
    print(f"\nyou  > {message}\nNova > ", end="", flush=True)
    started = time.monotonic()
    await call(
        "mutation($c: ID!, $t: String!) { sendMessage(conversationId: $c, text: $t) { id } }",
        {"c": conversation, "t": message},
        token,
    )
    side: list[str] = []
    shown: list[str] = []  # the reply's text as printed
    answered: list[str] = []  # the model ReplyStarted named
    ws_url = url.replace("http", "ws", 1)
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        await ws.recv()
        operation = 0
        while cursor is not None:
            operation += 1
            cursor = await _follow(
                ws, str(operation), conversation, cursor, (side, shown, answered), started
            )
            if cursor is None:
                break
            # CURSOR_EXPIRED: reload what the screen shows, then go on from liveCursor.
            reloaded = (await call(RELOAD, {"c": conversation}, token))["conversation"]
            reply = reloaded["messages"]["nodes"][-1]
            side.append(
                "        CURSOR_EXPIRED: the replay log no longer holds what came next; "
                "reloaded the conversation"
            )
            if reply["role"] == "COMPANION" and reply["status"] != "STREAMING":
                _complete(reply["text"], shown)
                side.append(f"        reply {reply['status'].lower()} (from the history)")
                break
            cursor = reloaded["liveCursor"]
    print("\n" + "\n".join(side))
    edges = (await call(TIMINGS, {"c": conversation}, token))["conversation"]["messages"]
    timings = edges["edges"][0]["node"]["timings"]
    print(
        "\nper-stage timings (ms from send): "
        + ", ".join(f"{k}={v}" for k, v in timings.items() if v is not None)
    )
    return answered[-1] if answered else "unknown (no ReplyStarted seen)"


async def _follow(
    ws: Any,
    operation: str,
    conversation: str,
    after: str,
    printed: tuple[list[str], list[str], list[str]],
    started: float,
) -> str | None:
    """Print events after ``after`` until the reply ends (None) or the cursor expires (the last
    cursor seen: the caller reloads). Any other error ends the demo with its message."""
    variables = {"id": conversation, "after": after}
    await ws.send(
        json.dumps(
            {
                "id": operation,
                "type": "subscribe",
                "payload": {"query": SUBSCRIPTION, "variables": variables},
            }
        )
    )
    async for raw in ws:
        frame = json.loads(raw)
        if frame.get("id") != operation:
            continue
        payload = frame.get("payload")
        errors = payload if frame.get("type") == "error" else (payload or {}).get("errors")
        if errors:
            if errors[0].get("extensions", {}).get("code") == "CURSOR_EXPIRED":
                return after
            raise SystemExit(f"server said: {errors[0]['message']}")
        if frame.get("type") == "complete":
            return after  # ended by the server: resume
        if frame.get("type") != "next":
            continue
        event = payload["data"]["conversationEvents"]
        after = event.get("cursor") or after
        if _show(event, *printed, started):
            await ws.send(json.dumps({"id": operation, "type": "complete"}))
            return None
    raise SystemExit("the server closed the connection")


def _complete(text: str, shown: list[str]) -> None:
    """Finish the printed reply with ``text``: the rest of it, or all of it again if the
    printed part has a gap (deltas missed while the stream was reloaded)."""
    printed = "".join(shown)
    if text.startswith(printed):
        print(text[len(printed) :], end="", flush=True)
    else:
        print(f"\nNova > {text}", end="", flush=True)
    shown[:] = [text]


def _show(
    event: dict[str, Any], side: list[str], shown: list[str], answered: list[str], started: float
) -> bool:
    kind = event["__typename"]
    at = f"+{(time.monotonic() - started) * 1000:5.0f} ms"
    if kind == "ReplyStarted":
        model = event["model"] + (
            " (fallback: the configured model could not run)" if event["fallback"] else ""
        )
        answered.append(model)
        side.append(f"{at}  ReplyStarted: answered by {model}")
    elif kind == "MessageDelta":
        shown.append(event["text"])
        print(event["text"], end="", flush=True)
    elif kind == "AudioChunk":
        side.append(
            f"{at}  audio #{event['seq']}: {event['durationMs']} ms from "
            f"{event['startMs']} ms  {event['url'][:90]}…"
        )
    elif kind == "VisemeFrames":
        track = " ".join(f"{f['viseme']}" for f in event["frames"][:24])
        side.append(
            f"{at}  visemes #{event['audioSeq']}: {len(event['frames'])} frames  "
            f"{track}{' …' if len(event['frames']) > 24 else ''}"
        )
    elif kind == "EmotionChanged":
        side.append(
            f"{at}  emotion: {event['emotion']} ({event['intensity']:.1f}) at {event['atMs']} ms"
        )
    elif kind == "ReplyDegraded":
        side.append(f"{at}  degraded: {event['reason']} ({event['detail']})")
    elif kind in TERMINAL:
        if kind == "ReplyCompleted":
            _complete(event["message"]["text"], shown)
        side.append(
            f"{at}  {kind}"
            + (f": {event['code']} {event['detail']}" if kind == "ReplyFailed" else "")
            + (" (retryable: send it again)" if event.get("retryable") else "")
        )
        return True
    return False
