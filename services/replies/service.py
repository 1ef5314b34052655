"""ReplyService: the conversation turns as the resolvers and the app see them, composed of one
part per job (this package's other modules). It owns their lifecycle: start() before the first
turn, stop() as the server goes, after which no task of theirs runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline.broadcast.hub import EventHub
from pipeline.llm.draft import Draft
from services import reply_rows, turn_context, voice_input
from services.identity import Viewer
from services.replies.barge_in import BargeIn
from services.replies.control import ControlListener
from services.replies.lease_keeper import LeaseKeeper
from services.replies.providers import Providers
from services.replies.publishing import Publisher
from services.replies.runner import AfterTurn, ReplyRunner, TurnObserver
from services.replies.running import RunningReplies
from services.replies.sessions import Closer, ErasedHere, LiveSessions
from services.replies.tasks import TaskSet
from services.replies.turns import MAX_TEXT, QuotaCheck, Quotas, Turns, VoiceSpend
from services.reply_leases import ReplyLeases
from store.models import Message

log = logging.getLogger("holomate.replies")


@dataclass(slots=True)
class ReplyService:
    sessionmaker: async_sessionmaker[AsyncSession]
    hub: EventHub
    providers: Providers
    context: turn_context.ContextConfig = field(default_factory=turn_context.ContextConfig)
    delta_window_s: float = 0.05
    quota_check: QuotaCheck | None = None
    voice_check: QuotaCheck | None = None
    voice_spend: VoiceSpend | None = None
    voice_length_check: voice_input.VoiceLengthCheck | None = None
    on_turn: TurnObserver | None = None
    leases: ReplyLeases | None = None  # made from the sessionmaker when not given
    # Called on every process when an account is erased, after its sockets closed (caches of
    # rendered events drop what they hold of the person).
    erased_here: list[ErasedHere] = field(default_factory=list)
    after_turn: list[AfterTurn] = field(default_factory=list)
    publisher: Publisher = field(init=False)
    runner: ReplyRunner = field(init=False)
    turns: Turns = field(init=False)
    barge_in: BargeIn = field(init=False)
    sessions: LiveSessions = field(init=False)
    _commands: TaskSet = field(init=False)  # what commands from other processes started
    _control: ControlListener = field(init=False)
    _lease_keeper: LeaseKeeper = field(init=False)

    def __post_init__(self) -> None:
        leases = self.leases = self.leases or ReplyLeases(self.sessionmaker)
        running = RunningReplies()
        self.publisher = Publisher(self.hub, self.sessionmaker)
        self.runner = ReplyRunner(
            self.sessionmaker,
            self.providers,
            self.publisher,
            running,
            delta_window_s=self.delta_window_s,
            on_turn=self.on_turn,
            after_turn=self.after_turn,
        )
        quotas = Quotas(
            self.quota_check, self.voice_check, self.voice_spend, self.voice_length_check
        )
        self.turns = Turns(
            self.sessionmaker,
            self.providers,
            leases,
            self.context,
            quotas,
            self.publisher,
            self.runner,
        )
        self.barge_in = BargeIn(self.sessionmaker, self.hub, running, self.publisher)
        self.sessions = LiveSessions(self.hub, running, self.providers.storage, self.erased_here)
        self._commands = TaskSet(log)
        self._control = ControlListener(
            self.hub,
            running,
            self._commands,
            self.barge_in.interrupt_here,
            self.sessions.end_user_here,
        )
        self._lease_keeper = LeaseKeeper(leases, running, self.publisher)

    async def start(self) -> None:
        await reply_rows.fail_orphans(self.sessionmaker)
        await self._control.start()
        self._lease_keeper.start()

    async def stop(self) -> None:
        await self.runner.stop()
        await self._control.stop()
        await self._commands.drain(5)
        await self._lease_keeper.stop()  # after the replies above saved their end
        await self.providers.aclose()

    async def send_message(
        self,
        viewer: Viewer,
        conversation_id: int,
        text: str,
        *,
        stt_ms: float | None = None,
        max_len: int = MAX_TEXT,
        draft: Draft | None = None,
    ) -> Message:
        return await self.turns.send_message(
            viewer, conversation_id, text, stt_ms=stt_ms, max_len=max_len, draft=draft
        )

    async def draft(self, viewer: Viewer, conversation_id: int, text: str) -> Draft | None:
        return await self.turns.draft(viewer, conversation_id, text)

    async def send_voice(
        self, viewer: Viewer, conversation_id: int, audio: bytes, mime_type: str
    ) -> Message:
        return await self.turns.send_voice(viewer, conversation_id, audio, mime_type)

    async def greet(self, viewer: Viewer, conversation_id: int) -> str:
        return await self.turns.greet(viewer, conversation_id)

    async def interrupt(self, viewer: Viewer, message_id: int, heard_until_ms: int) -> Message:
        return await self.barge_in.interrupt(viewer, message_id, heard_until_ms)

    def track_session(self, user_id: int, close: Closer) -> Callable[[], None]:
        return self.sessions.track(user_id, close)

    async def user_erased(self, user_id: int) -> None:
        await self.sessions.user_erased(user_id)
