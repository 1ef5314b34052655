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
