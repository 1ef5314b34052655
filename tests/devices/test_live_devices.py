"""A paired hologram on a live server: what its token may do, its stream, presence, unpairing."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from schema import ids
from tests.devices.helpers import (
    ASSIGN,
    DEVICES,
    HOLOGRAM_EVENTS,
    POLL,
    REQUEST,
    Closed,
    GqlSocket,
    error_code,
    pair_live,
    wait_until,
)
from tests.realtime.helpers import graphql, ok, send, setup_conversation
from tests.support.server import LiveServer

TERMINAL = {"ReplyCompleted", "ReplyFailed", "ReplyInterrupted"}
STATUS = "subscription { deviceStatusChanged { device { id name online lastSeenAt } } }"


def online(server: LiveServer, owner_token: str, device_id: str) -> bool:
    devices = ok(server, DEVICES, token=owner_token)["devices"]
    return any(d["id"] == device_id and d["online"] for d in devices)


def reply_position(event: dict[str, Any]) -> str:
    """Where a reply event is in its own conversation: that part of a hologramEvents cursor
    ("d:<x>|c:<companion>:<y>|v:<conversation>:<z>...", one v part per conversation
    followed)."""
    conversation = ids.decode("Conversation", event["conversationId"])
    return next(p for p in event["cursor"].split("|") if p.startswith(f"v:{conversation}:"))


async def open_stream(
    server: LiveServer, world: dict[str, str], device: dict[str, Any], after: str | None = None
) -> GqlSocket:
    """Subscribe, and return once the server counts the device online (its stream is live)."""
    socket = await GqlSocket.open(server, device["token"])
    await socket.subscribe("h", HOLOGRAM_EVENTS, {"after": after})
    await wait_until(lambda: online(server, world["token"], device["id"]))
    return socket


async def events_until(
    socket: GqlSocket, stop: set[str], wait_s: float = 30
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        result = await socket.next(wait_s)
        assert isinstance(result, dict), result
        event: dict[str, Any] = result["hologramEvents"]
        events.append(event)
        if event["__typename"] in stop:
            return events


async def test_a_device_token_reaches_only_its_own_stream_state_and_manifest(
    server: LiveServer,
) -> None:
    world = setup_conversation(server)
    device = pair_live(server, world["token"])
    stranger = setup_conversation(server, "eve@example.com")
    strangers_device = pair_live(server, stranger["token"], serial="EVE-1")
    token = device["token"]
    refused = {
        "me": graphql(server, "{ me { id } }", token=token),
        "companions": graphql(server, "{ companions { edges { node { id } } } }", token=token),
        "devices": graphql(server, DEVICES, token=token),
        "sendMessage": graphql(
            server,
            'mutation($c: ID!) { sendMessage(conversationId: $c, text: "hi") { id } }',
            {"c": world["conversation"]},
            token,
        ),
        "pairDevice": graphql(
            server, 'mutation { pairDevice(userCode: "BBBB-BBBB", name: "x") { id } }', token=token
        ),
        "requestDevicePairing": graphql(
            server, REQUEST, {"m": "m", "s": "s", "c": []}, token=token
        ),
        "unpairDevice": graphql(
            server, "mutation($d: ID!) { unpairDevice(id: $d) }", {"d": device["id"]}, token
        ),
        "login": graphql(
            server,
            'mutation { login(email: "ada@example.com", password: "correct horse") '
            "{ accessToken } }",
            token=token,
        ),
    }
    for name, body in refused.items():
        assert body.get("errors"), name
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (name, body)
    allowed = ok(
        server,
        'mutation { reportDeviceState(firmware: "1.2.3", volume: 0.5, asleep: false) '
        "{ firmware } }",
        token=token,
    )
    assert allowed["reportDeviceState"]["firmware"] == "1.2.3"
    assert ok(server, "{ deviceManifest { deviceId } }", token=token)["deviceManifest"]

    socket = await GqlSocket.open(server, token)
    await socket.subscribe(
        "1",
        "subscription($c: ID!) { conversationEvents(conversationId: $c) { __typename } }",
        {"c": world["conversation"]},
    )
    assert error_code(await socket.next()) == "FORBIDDEN"
    await socket.subscribe("2", HOLOGRAM_EVENTS, {"deviceId": strangers_device["id"]})
    assert error_code(await socket.next()) == "FORBIDDEN"
    await socket.subscribe("3", STATUS, {})
    assert error_code(await socket.next()) == "FORBIDDEN"
    await socket.close()
    # A person cannot open a device's stream either.
    person = await GqlSocket.open(server, world["token"])
    await person.subscribe("1", HOLOGRAM_EVENTS, {})
    assert error_code(await person.next()) == "FORBIDDEN"
    await person.close()


async def test_unpairing_cuts_the_device_off_at_once(server: LiveServer) -> None:
    world = setup_conversation(server)
    device = pair_live(server, world["token"])
    socket = await open_stream(server, world, device)
    started = time.monotonic()
    ok(server, "mutation($d: ID!) { unpairDevice(id: $d) }", {"d": device["id"]}, world["token"])
    closed = await socket.next(5)
    elapsed = time.monotonic() - started
    print(f"\nunpaired device's socket closed {elapsed * 1000:.0f} ms after unpairDevice")
    assert closed == Closed(4403, "Device unpaired")
    assert elapsed < 1.0
    body = graphql(server, "{ deviceManifest { deviceId } }", token=device["token"])
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert ok(server, DEVICES, token=world["token"])["devices"] == []


async def test_the_owner_sees_the_device_come_online_and_go_offline(server: LiveServer) -> None:
    world = setup_conversation(server)
    device = pair_live(server, world["token"], name="Hallway")
    owner = await GqlSocket.open(server, world["token"])
    await owner.subscribe("s", STATUS, {})
    await asyncio.sleep(0.3)  # the owner's subscription starts at "now"
    socket = await GqlSocket.open(server, device["token"])
    await socket.subscribe("h", HOLOGRAM_EVENTS, {})
    came = await owner.next(5)
    assert isinstance(came, dict), came
    status = came["deviceStatusChanged"]["device"]
    assert status["id"] == device["id"] and status["name"] == "Hallway"
    assert status["online"] is True and status["lastSeenAt"]
    assert online(server, world["token"], device["id"])
    await socket.close()
    went = await owner.next(5)
    assert isinstance(went, dict), went
    assert went["deviceStatusChanged"]["device"]["online"] is False
    assert not online(server, world["token"], device["id"])
    await owner.close()


async def test_the_hologram_plays_its_companions_reply_and_obeys_commands(
    server: LiveServer,
) -> None:
    world = setup_conversation(server)
    device = pair_live(server, world["token"])
    ok(server, ASSIGN, {"d": device["id"], "c": world["companion"]}, world["token"])
    socket = await open_stream(server, world, device)
    await asyncio.to_thread(send, server, world["token"], world["conversation"], "Hello there!")
    events = await events_until(socket, TERMINAL)
    kinds = [e["__typename"] for e in events]
    assert kinds[0] == "MessagePosted" and kinds[-1] == "ReplyCompleted", kinds
    assert "AudioChunk" in kinds and "VisemeFrames" in kinds
    text = "".join(e["text"] for e in events if e["__typename"] == "MessageDelta")
    assert text == events[-1]["message"]["text"] and text
    assert all(e["conversationId"] == world["conversation"] for e in events)
    ok(
        server,
        "mutation($d: ID!) { sendDeviceCommand(deviceId: $d, command: "
        '{playAnimation: {name: "wave", loop: false}, volume: 0.4}) { id } }',
        {"d": device["id"]},
        world["token"],
    )
    commands = await events_until(socket, {"VolumeChanged"}, 5)
    assert [c["__typename"] for c in commands] == ["PlayAnimation", "VolumeChanged"]
    assert commands[0]["name"] == "wave" and commands[0]["loop"] is False
    assert commands[1]["volume"] == 0.4
    cursors = [e["cursor"] for e in events + commands]
    assert len(set(cursors)) == len(cursors)
    await socket.close()


async def test_a_reconnecting_device_resumes_both_streams_with_after(server: LiveServer) -> None:
    world = setup_conversation(server)
    device = pair_live(server, world["token"])
    ok(server, ASSIGN, {"d": device["id"], "c": world["companion"]}, world["token"])
    socket = await open_stream(server, world, device)
    await asyncio.to_thread(send, server, world["token"], world["conversation"], "First!")
    first = await events_until(socket, TERMINAL)
    seen, missed = first[: len(first) // 2], first[len(first) // 2 :]
    await socket.close()
    await wait_until(lambda: not online(server, world["token"], device["id"]))
    # While it is away: a command and a whole second reply.
    ok(
        server,
        "mutation($d: ID!) { sendDeviceCommand(deviceId: $d, command: {sleep: true}) { id } }",
        {"d": device["id"]},
        world["token"],
    )
    await asyncio.to_thread(send, server, world["token"], world["conversation"], "Second!")
    await asyncio.sleep(0.2)
    socket = await GqlSocket.open(server, device["token"])
    await socket.subscribe("h", HOLOGRAM_EVENTS, {"after": seen[-1]["cursor"]})
    resumed: list[dict[str, Any]] = []
    while sum(e["__typename"] in TERMINAL for e in resumed) < 2 or not any(
        e["__typename"] == "SleepChanged" for e in resumed
    ):
        resumed += await events_until(socket, TERMINAL | {"SleepChanged"}, 30)
    await socket.close()
    # The two streams replay side by side; within the reply stream the order is exact.
    replies = [e for e in resumed if "conversationId" in e]
    assert [reply_position(e) for e in replies[: len(missed)]] == [
        reply_position(e) for e in missed
    ], "nothing missed, in order"
    positions = [reply_position(e) for e in seen + replies]
    assert len(positions) == len(set(positions)), "nothing twice"
    kinds = [e["__typename"] for e in resumed]
    assert "SleepChanged" in kinds and kinds.count("MessagePosted") == 1
    assert sum(k in TERMINAL for k in kinds) == 2


async def test_assigning_another_companion_switches_the_stream(server: LiveServer) -> None:
    world = setup_conversation(server)
    device = pair_live(server, world["token"])
    ok(server, ASSIGN, {"d": device["id"], "c": world["companion"]}, world["token"])
    other = ok(
        server, 'mutation { createCompanion(input: {name: "Orion"}) { id } }', token=world["token"]
    )["createCompanion"]["id"]
    other_conversation = ok(
        server,
        "mutation($c: ID!) { startConversation(companionId: $c) { id } }",
        {"c": other},
        world["token"],
    )["startConversation"]["id"]
    socket = await open_stream(server, world, device)
    ok(server, ASSIGN, {"d": device["id"], "c": other}, world["token"])
    switched = await events_until(socket, {"CompanionSwitched"}, 5)
    assert switched[-1]["companionId"] == other
    await asyncio.to_thread(send, server, world["token"], world["conversation"], "Mira?")
    await asyncio.to_thread(send, server, world["token"], other_conversation, "Orion?")
    events = await events_until(socket, TERMINAL)
    assert {e["conversationId"] for e in events} == {other_conversation}
    await socket.close()


async def test_a_waiting_device_hears_of_its_approval_without_polling(server: LiveServer) -> None:
    world = setup_conversation(server)
    codes = ok(server, REQUEST, {"m": "holo-1", "s": "HX-9", "c": []})["requestDevicePairing"]
    socket = await GqlSocket.open(server, None)
    await socket.subscribe(
        "p",
        "subscription($d: String!) { devicePairing(deviceCode: $d) "
        "{ status deviceToken deviceId } }",
        {"d": codes["deviceCode"]},
    )
    first = await socket.next(5)
    assert isinstance(first, dict) and first["devicePairing"]["status"] == "PENDING"
    ok(
        server,
        'mutation($u: String!) { pairDevice(userCode: $u, name: "Den") { id } }',
        {"u": codes["userCode"]},
        world["token"],
    )
    approved = await socket.next(5)
    assert isinstance(approved, dict), approved
    assert approved["devicePairing"]["status"] == "APPROVED"
    assert approved["devicePairing"]["deviceToken"]
    await socket.close()
    # Handed out once: polling afterwards gets nothing.
    polled = ok(server, POLL, {"d": codes["deviceCode"]})["pollDevicePairing"]
    assert polled == {"status": "EXPIRED", "deviceToken": None, "deviceId": None}


async def grant_plan(server: LiveServer, owner_token: str, plan: str) -> None:
    """Billing is another feature's story: the plan row is written directly."""
    from sqlalchemy import delete

    from store.db import make_engine, make_sessionmaker
    from store.models import BillingSubscription

    user = ok(server, "{ me { id } }", token=owner_token)["me"]["id"]
    engine = make_engine(server.env["HOLOMATE_DATABASE_URL"])
    try:
        async with make_sessionmaker(engine)() as session:
            user_id = int(user.split("_")[1])
            await session.execute(
                delete(BillingSubscription).where(BillingSubscription.user_id == user_id)
            )
            session.add(BillingSubscription(user_id=user_id, plan=plan, status="active"))
            await session.commit()
    finally:
        await engine.dispose()


async def test_one_device_speaks_and_the_others_show_text(server: LiveServer) -> None:
    world = setup_conversation(server)
    await grant_plan(server, world["token"], "plus")
    first = pair_live(server, world["token"], serial="HX-1", name="Kitchen")
    second = pair_live(server, world["token"], serial="HX-2", name="Bedroom")
    speaks = {d["id"]: d["speaks"] for d in ok(server, DEVICES, token=world["token"])["devices"]}
    assert speaks == {first["id"]: True, second["id"]: False}
    for device in (first, second):
        ok(server, ASSIGN, {"d": device["id"], "c": world["companion"]}, world["token"])
    kitchen = await open_stream(server, world, first)
    bedroom = await open_stream(server, world, second)
    ok(
        server,
        "mutation($d: ID!) { setSpeakingDevice(deviceId: $d) { id speaks } }",
        {"d": second["id"]},
        world["token"],
    )
    speaks = {d["id"]: d["speaks"] for d in ok(server, DEVICES, token=world["token"])["devices"]}
    assert speaks == {first["id"]: False, second["id"]: True}
    await asyncio.sleep(0.2)  # the switch reaches both streams before the reply
    await asyncio.to_thread(send, server, world["token"], world["conversation"], "Who speaks?")
    quiet = [e["__typename"] for e in await events_until(kitchen, TERMINAL)]
    loud = [e["__typename"] for e in await events_until(bedroom, TERMINAL)]
    assert "MessageDelta" in quiet and "AudioChunk" not in quiet and "VisemeFrames" not in quiet
    assert "AudioChunk" in loud and "VisemeFrames" in loud
    await kitchen.close()
    await bedroom.close()
