"""The baseline for bench/fanout.py: the least a Starlette WebSocket broadcast can cost.

Speaks just enough graphql-transport-ws for the same clients (connection_init → ack,
subscribe → one "replayed" event), then one asyncio task per connection (the endpoint's own)
sends whatever its in-process queue hands it. ``POST /publish`` replays a schedule of
``[offset_s, size, typename]``: each event is serialised once, padded to ``size`` bytes, with
``at`` set to its publish time, and the same string is put in every queue. No GraphQL, no log,
no database: the ratio GraphQL/bare is what the real path adds per delivery and per connection.

    .venv/bin/python -m uvicorn bench.bare_broadcast:app --ws-per-message-deflate false
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

PROTOCOL = "graphql-transport-ws"
_queues: set[asyncio.Queue[str | None]] = set()
_tasks: set[asyncio.Task[None]] = set()


def event_message(sub_id: str, typename: str, size: int) -> str:
    """A `next` message of exactly ``size`` bytes (when ``size`` allows) with ``at`` = now."""
    at = datetime.now(UTC).isoformat()
    body: dict[str, Any] = {"__typename": typename, "at": at, "pad": ""}
    message = {"id": sub_id, "type": "next", "payload": {"data": {"conversationEvents": body}}}
    text = json.dumps(message, separators=(",", ":"))
    body["pad"] = "x" * max(0, size - len(text))
    return json.dumps(message, separators=(",", ":"))


async def graphql_ws(websocket: WebSocket) -> None:
    await websocket.accept(subprotocol=PROTOCOL)
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    try:
        init = json.loads(await websocket.receive_text())
        if init.get("type") != "connection_init":
            await websocket.close(4400)
            return
        await websocket.send_text('{"type":"connection_ack"}')
        subscribe = json.loads(await websocket.receive_text())
        sub_id = str(subscribe["id"])
        _queues.add(queue)
        await websocket.send_text(event_message(sub_id, "ReplyCompleted", 300))  # the "replay"
        while (text := await queue.get()) is not None:
            await websocket.send_text(text)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client left; a send on a closed socket raises RuntimeError
    finally:
        _queues.discard(queue)


async def publish(request: Request) -> JSONResponse:
    schedule = (await request.json())["events"]
    task = asyncio.create_task(_run(schedule))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return JSONResponse({"queued": len(schedule), "subscribers": len(_queues)})


async def _run(schedule: list[list[Any]]) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    for offset, size, typename in schedule:
        delay = start + offset - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        text = event_message("1", typename, size)  # every client subscribes with id "1"
        for queue in tuple(_queues):
            queue.put_nowait(text)


async def reset(request: Request) -> JSONResponse:
    """End every connection task (their clients have gone): the next round starts clean."""
    for queue in tuple(_queues):
        queue.put_nowait(None)
    return JSONResponse({"ended": len(_queues)})


async def readyz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        WebSocketRoute("/graphql", graphql_ws),
        Route("/publish", publish, methods=["POST"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/readyz", readyz),
    ]
)
