"""What a finished turn becomes: the person's message, sent on ``sendMessage``'s path (plan
limits, the reply started at once), or the reason it is none. Either way exactly one
``VoiceFinalTranscript`` says so; the message's id is its ``messageId``."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from pipeline import events as ev
from pipeline.llm.draft import Draft
from pipeline.stt.base import Transcript
from pipeline.vad import TurnEnd
from services import voice_input
from services.errors import AppError, QuotaExceeded
from services.identity import Viewer
from services.voice_sessions.config import SessionDeps
from store.models import Message

NO_MESSAGE = 0  # messageId of events that belong to no message yet


class Outcomes:
    def __init__(
        self,
        session_id: str,
        viewer: Viewer,
        conversation_id: int,
        deps: SessionDeps,
        end_session: Callable[[str, str], None],
    ) -> None:
        self.id = session_id
        self.viewer = viewer
        self.conversation_id = conversation_id
        self.deps = deps
        self.end = end_session
        self._author = viewer.user_id

    async def none(self, outcome: str, detail: str = "") -> None:
        """No transcript to send (a backchannel, or speech-to-text failed)."""
        await self._final_event("", outcome, detail)

    async def transcribed(
        self,
        transcript: Transcript,
        stt_ms: float,
        start_ms: int,
        end: TurnEnd,
        draft: Draft | None = None,
    ) -> None:
        """``draft``: the reply begun in the turn's last pause, if any; the reply reads it if it
        fits, and it is cancelled whatever becomes of the turn otherwise."""
        try:
            await self._send(transcript, stt_ms, start_ms, end, draft)
        finally:
            if draft is not None:
                draft.cancel()  # nothing once the reply has taken it

    async def _send(
        self,
        transcript: Transcript,
        stt_ms: float,
        start_ms: int,
        end: TurnEnd,
        draft: Draft | None,
    ) -> None:
        words = _words(transcript, start_ms)
        text = transcript.text.strip()
        if not text:
            await self._final_event("", "NO_SPEECH", words=words)
            return
        turn_ms = end.end_ms - end.start_ms
        try:
            await self._check_voice(turn_ms)
            message = await self.deps.replies.send_message(
                self.viewer,
                self.conversation_id,
                text[: voice_input.MAX_TEXT],
                stt_ms=stt_ms,
                max_len=voice_input.MAX_TEXT,
                draft=draft,
            )
        except QuotaExceeded as e:
            await self._final_event(text, "REFUSED", f"{e.code}: {e.message}", words)
            if e.extensions.get("limit") == "voiceMinutesPerMonth":
                self.end("QUOTA_EXCEEDED", e.message)
            return
        except AppError as e:
            await self._final_event(text, "REFUSED", f"{e.code}: {e.message}", words)
            return
        await self._record_voice_in(message.id, turn_ms)
        await self._final_event(text, "MESSAGE", words=words, message_id=message.id)

    async def _final_event(
        self,
        text: str,
        outcome: str,
        detail: str = "",
        words: tuple[ev.VoiceWord, ...] = (),
        message_id: int = NO_MESSAGE,
    ) -> None:
        event = ev.VoiceFinalTranscript(self._author, self.id, text, outcome, detail, words)
        await self._publish(event, message_id)

    async def _check_voice(self, extra_ms: int) -> None:
        if self.deps.voice_check is None:
            return
        async with self.deps.sessionmaker() as session:
            await self.deps.voice_check(session, self.viewer.user_id, extra_ms)

    async def _record_voice_in(self, message_id: int, turn_ms: int) -> None:
        """The streamed turn counts towards the month's voice minutes (billing_usage)."""
        async with self.deps.sessionmaker() as session:
            row = await session.scalar(select(Message).where(Message.id == message_id))
            if row is not None:
                row.timings = {**(row.timings or {}), "voice_in_ms": turn_ms}
                await session.commit()

    async def _publish(self, event: ev.ConversationEvent, message_id: int) -> None:
        await self.deps.replies.publisher.publish(self.conversation_id, message_id, event)


def _words(transcript: Transcript, offset_ms: int) -> tuple[ev.VoiceWord, ...]:
    return tuple(
        ev.VoiceWord(w.word, w.start_ms + offset_ms, w.end_ms + offset_ms) for w in transcript.words
    )
