"""sendMessage, sendVoiceMessage, interruptReply and the conversationEvents subscription."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import strawberry
from strawberry.file_uploads import Upload

from context.request import Context
from context.state import AppState
from pipeline.broadcast.direct import DirectDelivery
from pipeline.broadcast.errors import CursorExpired, InvalidCursor, LogUnavailable
from pipeline.broadcast.log_base import LogEntry
from resolvers.live_feed import LiveFeed, LiveOperation
from schema import ids
from schema.types.events import ConversationEvent, event_from_payload
from schema.types.message import Message
from services import conversations
from services.channels import conversation_channel
from services.errors import BadUserInput, ServiceUnavailable
from services.errors import CursorExpired as CursorExpiredError

AUDIO_TYPES = {"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}
TOKEN_EXPIRED_CLOSE = 4401
ACCOUNT_GONE_CLOSE = 4401


def _replies(state: AppState) -> Any:
    if state.replies is None:
        raise RuntimeError("reply service not started")
    return state.replies


def _signer(state: AppState, base_url: str) -> Any:
    storage = state.storage

    def sign(key: str) -> str:
        assert storage is not None
        return base_url + storage.signed_url(key, state.media_url_ttl_s)

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
        hub = context.app.hub
        assert hub is not None
        base_url = context.media_base_url
        sign = _signer(context.app, base_url)
        channel = conversation_channel(pk)
        live = info.root_value if isinstance(info.root_value, LiveOperation) else None
        direct = DirectDelivery() if live is not None else None
        stream = hub.subscribe(channel, after, direct)
        forget = _replies(context.app).track_session(
            viewer.user_id, lambda: context.close_socket(ACCOUNT_GONE_CLOSE, "Account deleted")
        )
        # One timer per subscription (not a wait_for task per event) ends it when the token
        # expires: the socket closes with 4401 and the client re-authenticates and resumes.
        expiry = _expiry_timer(context, viewer.expires_at)

        async def close() -> None:
            expiry.cancel()
            forget()
            await stream.aclose()  # type: ignore[attr-defined]

        def event_for(entry: LogEntry) -> Any:
            return event_from_payload(entry.cursor, json.loads(entry.payload), sign)

        feed = LiveFeed(channel, stream, api_error, event_for, viewer, base_url, close, direct)
        if live is not None:
            live.take(feed)  # the WebSocket renders each event once for everyone
            return
        try:
            async for entry in _entries(stream):
                context.reset_loaders()
                yield event_for(entry)
        finally:
            await close()


def api_error(error: Exception) -> Exception:
    """The hub's errors as the API's error codes; anything else as it is (masked)."""
    if isinstance(error, InvalidCursor):
        return BadUserInput("Unknown cursor", field="after")
    if isinstance(error, CursorExpired):
        return CursorExpiredError()
    if isinstance(error, LogUnavailable):  # e.g. Redis restarting: resume with `after` shortly
        return ServiceUnavailable("The replay log")
    return error


async def _entries(stream: AsyncIterator[LogEntry]) -> AsyncIterator[LogEntry]:
    try:
        async for entry in stream:
            yield entry
    except (InvalidCursor, CursorExpired, LogUnavailable) as e:
        raise api_error(e) from e


def _expiry_timer(context: Context, expires_at: float) -> asyncio.TimerHandle:
    loop = asyncio.get_running_loop()
    delay = max(0.0, expires_at - time.time())
    expired = TOKEN_EXPIRED_CLOSE, "Token expired"
    return loop.call_later(delay, lambda: _spawn(context.close_socket(*expired)))


_background: set[asyncio.Task[None]] = set()


def _spawn(coro: Any) -> None:
    task = asyncio.ensure_future(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)
