"""Redis killed and restarted empty in the middle of a reply, with two server processes.

The replay log lived in that Redis, so what it held is gone and new events get fresh ids that
sort after every cursor a client holds. No client may be handed a replay with holes: a stream
either carries the whole reply or ends with CURSOR_EXPIRED, and a client that then reloads the
history and subscribes from ``liveCursor`` gets the next reply whole.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from tests.broadcast.conftest import PrivateRedis
from tests.conftest import RUN_NAMESPACE
from tests.realtime.helpers import (
    EVENTS,
    TERMINAL,
    graphql,
    live_cursor,
    ok,
    send,
    setup_conversation,
)
from tests.realtime.helpers import ws_client as client_for
from tests.support.server import LiveServer, live_server

# Kills and restarts a redis-server of its own: one worker runs these, in turn.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("redis-outage")]

PROTOCOL = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
LONG = "Tell me a long story about comets, planets and the stars above us please."
MESSAGES = """
query($c: ID!) {
  conversation(id: $c) { messages(last: 10) { nodes { role status text errorCode } } }
}
"""


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()  # --save "" --appendonly no: a restart comes back empty
    server.start()
    yield server
    server.kill()


def server_env(redis_server: PrivateRedis, **extra: str) -> dict[str, str]:
    return {
        "HOLOMATE_BROADCAST_URL": redis_server.url,
        "HOLOMATE_BROADCAST_NAMESPACE": RUN_NAMESPACE,
        # Sessions and rate limits elsewhere: these tests are about the replay log.
        "HOLOMATE_SHARED_STATE_URL": "memory://",
        "HOLOMATE_OFFLINE_LLM_WORD_DELAY_S": "0.04",
        **extra,
    }


@pytest.fixture
def two_servers(
    database_url: str, clean_db: None, tmp_path: Path, redis_server: PrivateRedis
) -> Iterator[tuple[LiveServer, LiveServer]]:
    env = server_env(redis_server)
    storage = tmp_path / "storage"
    with (
        live_server(database_url, storage, **env) as a,
        live_server(database_url, storage, **env) as b,
    ):
        yield a, b


class Stream:
    """One subscription, read event by event; an error ends it and is kept."""

    def __init__(self, agen: AsyncIterator[dict[str, Any]]) -> None:
        self.agen = agen
        self.events: list[dict[str, Any]] = []
        self.error: dict[str, Any] | None = None

    async def until(self, kinds: set[str]) -> None:
        await self.read(lambda: bool(self.events) and self.events[-1]["__typename"] in kinds)

    async def read(self, done: Callable[[], bool]) -> None:
        while self.error is None and not done():
            try:
                event = await asyncio.wait_for(anext(self.agen), 30)
            except TransportQueryError as e:
                assert e.errors, e
                self.error = e.errors[0]
                return
            self.events.append(event["conversationEvents"])

    def deltas(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["__typename"] == "MessageDelta"]


def expired(error: dict[str, Any] | None) -> bool:
    return error is not None and error.get("extensions", {}).get("code") == "CURSOR_EXPIRED"


LIVE_CURSOR = "query($c: ID!) { conversation(id: $c) { liveCursor } }"


def world_vars(world: dict[str, str]) -> dict[str, str]:
    return {"c": world["conversation"]}


async def first_answer(server: LiveServer, world: dict[str, str], after: str) -> Stream:
    """Subscribe from ``after`` and read until the first event or error."""
    async with client_for(server, world["token"], PROTOCOL) as session:
        variables = {"id": world["conversation"], "after": after}
        stream = Stream(session.subscribe(EVENTS, variable_values=variables))
        await stream.until(TERMINAL | {"MessagePosted", "ReplyStarted", "MessageDelta"})
        return stream


async def settled(server: LiveServer, world: dict[str, str]) -> dict[str, Any]:
    """The conversation once no reply is streaming any more."""
    deadline = time.monotonic() + 30
    while True:
        data = ok(server, MESSAGES, {"c": world["conversation"]}, world["token"])["conversation"]
        if all(m["status"] != "STREAMING" for m in data["messages"]["nodes"]):
            return data  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, data
        await asyncio.sleep(0.1)


async def test_redis_restarted_empty_mid_reply_never_replays_with_holes(
    two_servers: tuple[LiveServer, LiveServer], redis_server: PrivateRedis
) -> None:
    a, b = two_servers
    world = setup_conversation(b)
    before = live_cursor(b, world)  # an empty conversation's cursor, from before the restart

    async with client_for(b, world["token"], PROTOCOL) as session:
        variables = {"id": world["conversation"], "after": before}
        listener = Stream(session.subscribe(EVENTS, variable_values=variables))
        await asyncio.to_thread(send, a, world["token"], world["conversation"], LONG)
        await listener.read(lambda: len(listener.deltas()) >= 3)
        assert listener.error is None, listener.error
        mid = listener.events[-1]["cursor"]

        redis_server.kill()  # SIGKILL mid-reply: no persistence, so it comes back empty
        down = await asyncio.to_thread(graphql, b, LIVE_CURSOR, world_vars(world), world["token"])
        redis_server.start()
        restarted = time.perf_counter()
        await listener.until(TERMINAL)
        answered_s = time.perf_counter() - restarted

    # Meanwhile the replay log could not be read: a retryable answer, not a masked error.
    assert down["errors"][0]["extensions"] == {"code": "SERVICE_UNAVAILABLE", "retryable": True}

    # The listener on the other process: the whole reply, or told to reload. Never a gap.
    seqs = [d["seq"] for d in listener.deltas()]
    assert seqs == list(range(len(seqs))), f"a hole in the live stream: {seqs}"
    if listener.error is None:
        completed = listener.events[-1]
        assert completed["__typename"] == "ReplyCompleted", listener.events[-1]
        assert completed["message"]["text"] == "".join(d["text"] for d in listener.deltas())
    else:
        assert expired(listener.error), listener.error
    print(f"\nlistener answered {answered_s:.2f}s after Redis came back: {listener.error}")

    # Fresh screens resuming from before the restart are told to reload: no replay at all.
    for cursor in (before, mid):
        resumed = await first_answer(b, world, cursor)
        assert resumed.events == [] and expired(resumed.error), (resumed.events, resumed.error)

    # The reply itself went on once Redis was back (the producer waited out the outage).
    history = await settled(b, world)
    reply = history["messages"]["nodes"][-1]
    assert reply["role"] == "COMPANION" and reply["status"] == "COMPLETE", reply
    assert reply["text"].startswith("".join(d["text"] for d in listener.deltas()))

    # Reloaded, the client subscribes from liveCursor and the next reply streams whole.
    async with client_for(b, world["token"], PROTOCOL) as session:
        variables = {"id": world["conversation"], "after": live_cursor(b, world)}
        again = Stream(session.subscribe(EVENTS, variable_values=variables))
        await asyncio.to_thread(send, a, world["token"], world["conversation"], "And the moon?")
        await again.until(TERMINAL)
    assert again.error is None, again.error
    kinds = [e["__typename"] for e in again.events]
    assert kinds[0] == "MessagePosted"
    assert kinds[-1] == "ReplyCompleted"
    seqs = [d["seq"] for d in again.deltas()]
    assert seqs == list(range(len(seqs))) and seqs
    assert again.events[-1]["message"]["text"] == "".join(d["text"] for d in again.deltas())


@pytest.fixture
def impatient_server(
    database_url: str, clean_db: None, tmp_path: Path, redis_server: PrivateRedis
) -> Iterator[LiveServer]:
    """A publish waits half a second for the replay log, not five."""
    env = server_env(redis_server, HOLOMATE_EVENT_LOG_APPEND_WAIT_S="0.5")
    with live_server(database_url, tmp_path / "storage", **env) as running:
        yield running


async def test_a_reply_that_cannot_reach_the_replay_log_fails_retryably_not_silently(
    impatient_server: LiveServer, redis_server: PrivateRedis
) -> None:
    server = impatient_server
    world = setup_conversation(server)
    async with client_for(server, world["token"], PROTOCOL) as session:
        variables = {"id": world["conversation"], "after": live_cursor(server, world)}
        listener = Stream(session.subscribe(EVENTS, variable_values=variables))
        await asyncio.to_thread(send, server, world["token"], world["conversation"], LONG)
        await listener.read(lambda: len(listener.deltas()) >= 2)

        redis_server.kill()  # and it stays away longer than a publish waits
        history = await settled(server, world)
        redis_server.start()
        await listener.until(TERMINAL)

    reply = history["messages"]["nodes"][-1]
    assert reply["role"] == "COMPANION" and reply["status"] == "FAILED", reply
    assert reply["errorCode"] == "EVENT_LOG_UNAVAILABLE"
    assert expired(listener.error), listener.error  # the Redis that came back holds nothing
