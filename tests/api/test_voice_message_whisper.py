"""A person talks to their companion with a recorded message: over a running server (SQLite,
or PostgreSQL + Redis when the test environment names them), the embedded speech-to-text
(Whisper) turns it into their message, word for word, every screen sees it posted, and the
companion answers it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from gql.transport.websockets import WebsocketsTransport

from pipeline.stt import whisper_stt
from tests.pipeline.speech_metrics import spoken_form
from tests.realtime.helpers import EVENTS, TERMINAL, live_cursor, ok, setup_conversation, ws_client
from tests.support.server import LiveServer
from tests.support.voice import send_voice, speech_wav

pytestmark = [
    pytest.mark.skipif(
        not whisper_stt.is_installed(), reason="requirements-speech.txt is not installed"
    ),
    pytest.mark.one_backend,  # speech to text: other uploads run on both, test_voice_upload_hostile
]
SAID = "she said she would be here in ten minutes"
MESSAGES = """
query($c: ID!) { conversation(id: $c) { messages(last: 5) { nodes { role text } } } }
"""


async def test_a_voice_message_becomes_the_words_said_and_the_companion_answers_it(
    server: LiveServer,
) -> None:
    world = await asyncio.to_thread(setup_conversation, server)
    cursor = await asyncio.to_thread(live_cursor, server, world)
    protocol = WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL
    async with ws_client(server, world["token"], protocol) as session:
        events = session.subscribe(
            EVENTS, variable_values={"id": world["conversation"], "after": cursor}
        )
        async with httpx.AsyncClient(base_url=server.url) as http:
            body = await send_voice(
                http, world["token"], world["conversation"], speech_wav(sentence=SAID)
            )
        assert "errors" not in body, body.get("errors")
        message = body["data"]["sendVoiceMessage"]
        # Whisper writes it as a person would type it: "She said she would be here in 10 minutes."
        assert message["role"] == "USER" and spoken_form(message["text"]) == SAID
        seen: list[dict[str, Any]] = []
        try:
            while not seen or seen[-1]["__typename"] not in TERMINAL:
                event = await asyncio.wait_for(anext(events), 60)
                seen.append(event["conversationEvents"])
        finally:
            await events.aclose()
    posted = [e for e in seen if e["__typename"] == "MessagePosted"]
    assert posted[0]["message"] == message
    assert seen[-1]["__typename"] == "ReplyCompleted" and seen[-1]["message"]["text"]
    stored = await asyncio.to_thread(
        ok, server, MESSAGES, {"c": world["conversation"]}, world["token"]
    )
    nodes = stored["conversation"]["messages"]["nodes"]
    assert {"role": "USER", "text": message["text"]} in nodes
