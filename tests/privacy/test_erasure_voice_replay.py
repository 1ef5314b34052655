"""What a person said in a voice session in someone else's conversation goes with their account,
even when no turn became a message: the host's replay from any cursor shows none of it, and the
host's live stream, whose cursor pointed at it, goes on (on the embedded default's SQLite log and,
in the PostgreSQL + Redis run, on Redis Streams)."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

from gql.transport.websockets import WebsocketsTransport

from tests.realtime.helpers import invite_ada, live_cursor, ok, send, setup_conversation
from tests.realtime.voice_client import VOICE_EVENTS, Events, Mic, client, silence, speech_pcm
from tests.support.server import LiveServer

TRANSPORT = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
ERASE = "mutation($p: String!) { deleteMyAccount(password: $p) }"


async def replay(server: LiveServer, token: str, conversation: str, after: str) -> list[str]:
    """What a screen reconnecting from ``after`` is sent, up to the reply's end."""
    kinds: list[str] = []
    async with (
        client(server.ws_url, token, TRANSPORT) as session,
        aclosing(
            session.subscribe(VOICE_EVENTS, variable_values={"id": conversation, "after": after})
        ) as events,
    ):
        async for result in events:
            event = result["conversationEvents"]
            kinds.append(event["__typename"])
            assert event.get("authorId") is None, "nothing of the erased person's"
            if kinds[-1] == "ReplyCompleted":
                return kinds
    return kinds


async def test_an_erased_guests_voice_leaves_no_trace_and_the_hosts_stream_goes_on(
    server: LiveServer,
) -> None:
    bob = setup_conversation(server, "bob@example.com")
    ada = invite_ada(server, bob)
    before = live_cursor(server, bob)
    async with (
        client(server.ws_url, bob["token"], TRANSPORT) as bobs,
        client(server.ws_url, ada, TRANSPORT) as adas,
    ):
        live = Events.follow(bobs, bob["conversation"], before)
        await asyncio.sleep(0.3)
        mic = await Mic.start(adas, bob["conversation"])
        await mic.stream(silence(300) + speech_pcm()[: 32 * 1500])  # mid-sentence
        heard = await live.until("VoiceSpeechStarted", sessionId=mic.id)
        # Bob's screen last saw Ada's event: its cursor now names an erased entry.
        await asyncio.to_thread(ok, server, ERASE, {"p": "correct horse"}, ada)
        await asyncio.to_thread(send, server, bob["token"], bob["conversation"], "Still here?")
        posted = await live.until("MessagePosted")
        assert posted["message"]["text"] == "Still here?"
        await live.until("ReplyCompleted")
        await live.aclose()
    for cursor in (before, heard["cursor"]):  # reconnecting from before her, or from her event
        kinds = await replay(server, bob["token"], bob["conversation"], cursor)
        assert not [k for k in kinds if k.startswith("Voice")]
        assert kinds[0] == "MessagePosted" and kinds[-1] == "ReplyCompleted"
