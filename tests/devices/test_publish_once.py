"""A reply is logged and broadcast once, on its conversation; its companion's channel (which
holograms follow) carries one small pointer per message saying where the conversation goes
live, and a hologram's cursor keeps its place in each conversation it follows."""

from __future__ import annotations

import json

import pytest
from starlette.applications import Starlette

from pipeline import events as ev
from schema import ids
from services.channels import CONVERSATION_LIVE, companion_channel, conversation_channel
from services.devices.cursor import FOLLOWED_MAX, HoloCursor
from services.errors import BadUserInput
from services.replies.publishing import Publisher
from tests.support.graphql import (
    GraphQLClient,
    create_companion,
    register,
    start_conversation,
)


async def test_events_are_logged_once_and_the_companion_channel_only_points_to_them(
    app: Starlette, api: GraphQLClient
) -> None:
    token = (await register(api, "ada@example.com"))["accessToken"]
    companion = await create_companion(api, token)
    conversation = await start_conversation(api, token, companion["id"])
    cid = ids.decode("Conversation", conversation["id"])
    kid = ids.decode("Companion", companion["id"])
    hub = app.state.holo.hub
    talk, points = conversation_channel(cid), companion_channel(kid)
    talk_start, points_start = await hub.tail(talk), await hub.tail(points)
    publisher = Publisher(hub, app.state.holo.sessionmaker)

    for seq in range(3):
        await publisher.publish(cid, 10, ev.MessageDelta(seq, f"word {seq} "))
    await publisher.publish(cid, 11, ev.MessageDelta(0, "the next message"))

    logged = await hub.log.read_after(hub.namespace + talk, talk_start, 100)
    pointed = await hub.log.read_after(hub.namespace + points, points_start, 100)
    assert [json.loads(e.payload)["type"] for e in logged] == ["MessageDelta"] * 4
    assert [json.loads(e.payload) for e in pointed] == [
        {"type": CONVERSATION_LIVE, "conversation_id": cid, "after": talk_start},
        {"type": CONVERSATION_LIVE, "conversation_id": cid, "after": logged[2].cursor},
    ], "one pointer per message, from just before its first event"


def test_a_hologram_cursor_keeps_its_place_in_each_conversation_it_follows() -> None:
    start = HoloCursor("5", 2, "7")
    assert HoloCursor.decode(start.encode()) == start == HoloCursor.decode("d:5|c:2:7")
    moved = start.with_conversation(3, "10").with_conversation(4, "1").with_conversation(3, "12")
    assert moved.encode() == "d:5|c:2:7|v:3:12|v:4:1"
    assert HoloCursor.decode(moved.encode()) == moved
    assert moved.with_companion(2, "8").conversations == moved.conversations
    assert moved.with_companion(6, "0").conversations == (), "another companion: none of these"
    many = start
    for conversation in range(FOLLOWED_MAX + 2):
        many = many.with_conversation(conversation, "1")
    assert [c for c, _ in many.conversations] == list(range(2, FOLLOWED_MAX + 2))


@pytest.mark.parametrize(
    "bad", ["d:5|c:-|v:3:1", "d:5|c:2:7|x:3:1", "d:5|c:2:7|v:3:", "d:5|c:2:7|v:a:1"]
)
def test_a_garbled_hologram_cursor_is_refused(bad: str) -> None:
    with pytest.raises(BadUserInput):
        HoloCursor.decode(bad)
