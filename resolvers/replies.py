"""sendMessage, sendVoiceMessage, interruptReply and the conversationEvents subscription."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.file_uploads import Upload

from context.request import Context
from context.state import AppState
from live.feed import LiveSubscription
from live.stream import stream as live_stream
from pipeline.broadcast.log_base import LogEntry
from pipeline.storage.base import public_url
from schema import ids
from schema.types.events import ConversationEvent, event_from_payload
from schema.types.message import Message
from services import conversations
from services.channels import conversation_channel
from services.errors import BadUserInput

AUDIO_TYPES = {"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}


def _replies(state: AppState) -> Any:
    if state.replies is None:
        raise RuntimeError("reply service not started")
    return state.replies


def _signer(state: AppState, base_url: str) -> Any:
    storage = state.storage

    def sign(key: str) -> str:
        assert storage is not None
        return public_url(base_url, storage.signed_url(key, state.media_url_ttl_s))

    return sign


@strawberry.type
class ReplyMutation:
    @strawberry.mutation(
        description="Store the message and return it; the reply streams on conversationEvents."
    )
    async def send_message(
        self, info: strawberry.Info[Context, None], conversation_id: strawberry.ID, text: str
    ) -> Message:
        viewer = info.context.person()
        row = await _replies(info.context.app).send_message(
            viewer, ids.decode("Conversation", conversation_id), text
        )
        return Message.from_model(row)

    @strawberry.mutation(description="A WAV recording; speech-to-text, then as sendMessage.")
    async def send_voice_message(
        self, info: strawberry.Info[Context, None], conversation_id: strawberry.ID, audio: Upload
    ) -> Message:
        viewer = info.context.person()
        mime = (getattr(audio, "content_type", None) or "audio/wav").split(";")[0].strip()
        if mime not in AUDIO_TYPES:
            raise BadUserInput("Send the recording as audio/wav", field="audio")
        try:
            data = await audio.read()  # type: ignore[attr-defined]
        finally:  # the spooled temporary file is not closed for us
            await audio.close()  # type: ignore[attr-defined]
        row = await _replies(info.context.app).send_voice(
            viewer, ids.decode("Conversation", conversation_id), data, mime
        )
        return Message.from_model(row)

    @strawberry.mutation(description="Barge-in: stop the reply and keep what was heard.")
    async def interrupt_reply(
        self, info: strawberry.Info[Context, None], message_id: strawberry.ID, heard_until_ms: int
    ) -> Message:
        viewer = info.context.person()
        row = await _replies(info.context.app).interrupt(
            viewer, ids.decode("Message", message_id), heard_until_ms
        )
        return Message.from_model(row)


@strawberry.type
class ReplySubscription:
    @strawberry.subscription(
        description="Everything said in a conversation, live; pass the "
        "last cursor you saw as `after` to resume without gaps."
    )
    async def conversation_events(
        self,
        info: strawberry.Info[Context, None],
        conversation_id: strawberry.ID,
        after: str | None = None,
    ) -> AsyncGenerator[ConversationEvent, None]:
        context = info.context
        viewer = context.person()  # a device follows its companion on hologramEvents instead
        pk = ids.decode("Conversation", conversation_id)
        async with context.app.sessionmaker() as session:
            await conversations.get_visible(session, viewer, pk)
        base_url = context.media_base_url
        sign = _signer(context.app, base_url)

        def event_for(entry: LogEntry) -> Any:
            return event_from_payload(entry.cursor, json.loads(entry.payload), sign)

        replies = _replies(context.app)
        subscription = LiveSubscription(
            channel=conversation_channel(pk),
            after=after,
            event_for=event_for,
            viewer=viewer,
            base_url=base_url,
            track=lambda close: replies.track_session(viewer.user_id, close),
        )
        async for event in live_stream(context, subscription):
            yield event
