"""After an account is erased, resuming a shared conversation's stream replays none of the
person's messages: on the embedded default (SQL replay log) and on Redis Streams (the run
against PostgreSQL + Redis), behind the deployment's channel namespace."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
from typing import Any

from tests.realtime.helpers import (
    EVENTS,
    TERMINAL,
    invite_ada,
    live_cursor,
    ok,
    send,
    setup_conversation,
    ws_client,
)
from tests.realtime.test_live_reply import PROTOCOLS
from tests.support.server import LiveServer

PASSWORD = "correct horse"


async def reply_events(
    server: LiveServer,
    token: str,
    conversation: str,
    cursor: str,
    trigger: Callable[[], object] | None = None,
) -> list[dict[str, Any]]:
    """Bob's stream from ``cursor`` until a reply ends (the one ``trigger`` starts, if given:
    the replay from ``cursor`` brings what it published before the subscription began)."""
    if trigger is not None:
        trigger()
    events: list[dict[str, Any]] = []
    async with (
        ws_client(server, token, PROTOCOLS["graphql-transport-ws"]) as session,
        aclosing(
            session.subscribe(EVENTS, variable_values={"id": conversation, "after": cursor})
        ) as stream,
    ):
        async for result in stream:
            events.append(result["conversationEvents"])
            if events[-1]["__typename"] in TERMINAL:
                break
    return events


async def test_a_shared_conversation_resumes_without_the_erased_persons_messages(
    server: LiveServer,
) -> None:
    bob = setup_conversation(server, "bob@example.com")
    ada = invite_ada(server, bob)
    start = live_cursor(server, bob)
    await reply_events(
        server,
        bob["token"],
        bob["conversation"],
        start,
        lambda: send(server, bob["token"], bob["conversation"], "Bob says hello"),
    )
    before_ada = live_cursor(server, bob)  # what Bob's screen last saw
    first = await reply_events(
        server,
        bob["token"],
        bob["conversation"],
        before_ada,
        lambda: send(server, ada, bob["conversation"], "ada whispers a secret"),
    )
    assert any(
        e["__typename"] == "MessagePosted" and e["message"]["text"] == "ada whispers a secret"
        for e in first
    )

    ok(server, "mutation($p: String!) { deleteMyAccount(password: $p) }", {"p": PASSWORD}, ada)

    # Bob's screen reconnects and resumes from where it was.
    resumed = await reply_events(server, bob["token"], bob["conversation"], before_ada)
    kinds = [e["__typename"] for e in resumed]
    assert "MessagePosted" not in kinds, "her message is not replayed"
    assert kinds[-1] == "ReplyCompleted"  # the companion's answer stays, as in the thread
    assert [e["cursor"] for e in resumed] == [
        e["cursor"] for e in first if e["__typename"] != "MessagePosted"
    ]
