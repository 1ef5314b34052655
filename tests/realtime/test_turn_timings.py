"""Every reply records where its time went: queryable on the message, exported to Prometheus."""

from __future__ import annotations

import httpx
from gql.transport.websockets import WebsocketsTransport

from tests.realtime.helpers import ok, setup_conversation
from tests.realtime.test_live_reply import subscribe_then_send
from tests.support.server import LiveServer


async def test_turn_timings_are_queryable_and_exported(server: LiveServer) -> None:
    world = setup_conversation(server)
    events = await subscribe_then_send(
        server, world, WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL, "How far is the Moon?"
    )
    reply_id = events[-1]["message"]["id"]
    data = ok(
        server,
        "query($c: ID!) { conversation(id: $c) { messages(last: 1) { edges { node "
        "{ id timings { llmFirstTokenMs firstDeltaMs firstAudioMs firstVisemeMs "
        "totalMs } } } } } }",
        {"c": world["conversation"]},
        world["token"],
    )
    node = data["conversation"]["messages"]["edges"][0]["node"]
    assert node["id"] == reply_id
    t = node["timings"]
    assert 0 < t["llmFirstTokenMs"] <= t["firstDeltaMs"] <= t["totalMs"]
    assert 0 < t["firstAudioMs"] <= t["totalMs"] and t["firstVisemeMs"] <= t["firstAudioMs"]
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(f"{server.url}/metrics")).text
    assert 'holomate_turn_stage_ms_count{stage="first_audio_ms"} 1.0' in metrics
    assert 'holomate_replies_total{status="complete"} 1.0' in metrics


async def test_replies_orphaned_by_a_dead_process_are_marked_failed(app: object) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from services import reply_rows
    from store.base import utcnow
    from store.models import (
        Companion,
        Conversation,
        Message,
        MessageRole,
        MessageStatus,
        User,
    )

    state = app.state.holo  # type: ignore[attr-defined]
    async with state.sessionmaker() as session:
        user = User(email="o@example.com", display_name="O", password_hash="x")
        session.add(user)
        await session.flush()
        comp = Companion(owner_id=user.id, name="C", traits=[])
        session.add(comp)
        await session.flush()
        conv = Conversation(companion_id=comp.id, title="t")
        session.add(conv)
        await session.flush()
        old = Message(
            conversation_id=conv.id,
            role=MessageRole.COMPANION,
            text="half",
            status=MessageStatus.STREAMING,
            created_at=utcnow() - timedelta(hours=1),
        )
        fresh = Message(
            conversation_id=conv.id,
            role=MessageRole.COMPANION,
            text="",
            status=MessageStatus.STREAMING,
        )
        session.add_all([old, fresh])
        await session.commit()
    await reply_rows.fail_orphans(state.sessionmaker)
    async with state.sessionmaker() as session:
        statuses = dict((await session.execute(select(Message.text, Message.status))).all())
    assert statuses == {"half": MessageStatus.FAILED, "": MessageStatus.STREAMING}
