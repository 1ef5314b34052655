"""Conversation turns: store what a person says, produce the companion's reply in the
background, publish every event to the conversation's channel, and handle barge-in.

A reply runs in the process that received the message, which holds its owner lease while it
runs (services/reply_leases.py: when that process dies, another fails the reply within seconds);
``interruptReply`` may land on any process, so interrupts travel on a control channel every
process listens to (control.py).

One module per job: turns.py accepts a turn, runner.py runs and saves the reply,
lease_keeper.py renews its lease, barge_in.py stops it where it was heard, sessions.py ends a
person's live sessions when their account is erased, publishing.py puts events on the
channels, and service.py composes them as ReplyService.
"""

from services.replies.providers import Providers
from services.replies.service import ReplyService
from services.replies.sessions import UserErased

__all__ = ["Providers", "ReplyService", "UserErased"]
