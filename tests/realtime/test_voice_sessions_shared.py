"""Voice sessions across server processes (two behind one Redis on the PostgreSQL + Redis run,
the one embedded process otherwise): a person's sessions count on every process, and a session
whose login or device ended closes at once, wherever it runs, saying why."""

from __future__ import annotations

import time

from gql.transport.websockets import WebsocketsTransport

from tests.api.test_session_revocation import (
    LOGIN,
    LOGOUT,
    new_email,
    servers,  # noqa: F401 - a fixture
)
from tests.devices.helpers import ASSIGN, pair_live
from tests.realtime.helpers import graphql, live_cursor, ok, setup_conversation
from tests.realtime.voice_client import Events, client
from tests.support.server import LiveServer

TRANSPORT = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
START = "mutation($c: ID) { startVoiceSession(conversationId: $c) { id } }"
END = "mutation($s: ID!) { endVoiceSession(sessionId: $s) { id } }"
UNPAIR = "mutation($d: ID!) { unpairDevice(id: $d) }"


def start(server: LiveServer, token: str, conversation: str | None) -> str:
    session_id: str = ok(server, START, {"c": conversation}, token)["startVoiceSession"]["id"]
    return session_id


async def closed(world: dict[str, str], server: LiveServer, after: str, session_id: str) -> str:
    """The reason the session's closing gives, as the owner's screen shows it."""
    async with client(server.ws_url, world["token"], TRANSPORT) as screen:
        events = Events.follow(screen, world["conversation"], after)
        event = await events.until("VoiceSessionClosed", within_s=5, sessionId=session_id)
        await events.aclose()
    reason: str = event["reason"]
    return reason


async def test_a_person_at_the_limit_on_one_process_is_refused_on_the_other(
    servers: tuple[LiveServer, LiveServer],  # noqa: F811
) -> None:
    a, b = servers
    world = setup_conversation(a, new_email())
    token, conversation = world["token"], world["conversation"]
    after = live_cursor(a, world)
    first = start(a, token, conversation)
    start(a, token, conversation)  # two at once on the default plan
    refused = graphql(b, START, {"c": conversation}, token)["errors"][0]["extensions"]
    assert refused["code"] == "RATE_LIMITED"
    ok(a, END, {"s": first}, token)
    # Its place is free once its closing is told: at once, anywhere.
    assert await closed(world, b, after, first) == "ENDED"
    start(b, token, conversation)


async def test_unpairing_a_device_ends_its_voice_session_at_once_on_every_process(
    servers: tuple[LiveServer, LiveServer],  # noqa: F811
) -> None:
    a, b = servers
    world = setup_conversation(a, new_email())
    device = pair_live(a, world["token"])
    ok(a, ASSIGN, {"d": device["id"], "c": world["companion"]}, world["token"])
    after = live_cursor(a, world)
    session_id = start(b, device["token"], None)
    unpaired = time.monotonic()
    ok(a, UNPAIR, {"d": device["id"]}, world["token"])
    assert await closed(world, a, after, session_id) == "DEVICE_UNPAIRED"
    assert time.monotonic() - unpaired < 5  # not the 10 s idle timeout


async def test_logging_out_ends_that_logins_voice_sessions_and_no_others(
    servers: tuple[LiveServer, LiveServer],  # noqa: F811
) -> None:
    a, b = servers
    email = new_email()
    world = setup_conversation(a, email)
    phone = ok(a, LOGIN, {"e": email})["login"]
    after = live_cursor(a, world)
    on_phone = start(b, phone["accessToken"], world["conversation"])
    kept = start(b, world["token"], world["conversation"])
    ok(a, LOGOUT, {"t": phone["refreshToken"]})
    assert await closed(world, a, after, on_phone) == "SESSION_ENDED"
    ok(b, END, {"s": kept}, world["token"])  # the other login's session was still open
