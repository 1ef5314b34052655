"""Events built once per process and shared: never mixed up between conversations."""

from __future__ import annotations

from resolvers.replies import SharedEvents
from services.events import envelope
from store.base import utcnow


def test_the_same_cursor_on_two_channels_gives_each_its_own_event() -> None:
    # Redis stream ids are per stream: two conversations can log "1700000000000-0" together.
    shared = SharedEvents()
    cursor = "1700000000000-0"
    first = envelope("MessageDelta", 1, 10, utcnow(), {"seq": 0, "text": "for conversation one"})
    second = envelope("MessageDelta", 2, 20, utcnow(), {"seq": 0, "text": "for conversation two"})
    a = shared.get("conversation:1", cursor, first, str)
    b = shared.get("conversation:2", cursor, second, str)
    assert (a.text, a.conversation_id) == ("for conversation one", "cnv_1")
    assert (b.text, b.conversation_id) == ("for conversation two", "cnv_2")
    assert shared.get("conversation:1", cursor, second, str) is a  # built once, then shared
