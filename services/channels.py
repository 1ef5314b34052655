"""Every hub channel the app publishes to or listens on, named here once.

A channel's name is also its key in the replay log (pipeline/broadcast/), so renaming one
orphans what is logged under the old name: resuming clients would miss those events.
"""

from __future__ import annotations

import json

# Commands every process listens to: interrupt a reply it runs, end an erased person's sockets
# (services/replies/).
REPLIES_CONTROL = "replies:control"
# Sessions ended on one process (sign-out, password change): every other drops their tokens
# from its cache (services/auth/revocations.py).
SESSIONS_ENDED = "auth:sessions-ended"


def conversation_channel(conversation_id: int) -> str:
    """A conversation's messages and reply events: what ``conversationEvents`` follows."""
    return f"conversation:{conversation_id}"


def companion_channel(companion_id: int) -> str:
    """Which of a companion's conversations are live, one pointer (``conversation_live``) per
    message published in them: what its holograms follow, and through it those conversations'
    own channels. (Entries logged before pointers were carried copies of the events.)"""
    return f"companion:{companion_id}"


CONVERSATION_LIVE = "ConversationLive"


def conversation_live(conversation_id: int, after: str) -> str:
    """The companion channel's pointer: the conversation's events from ``after`` on."""
    pointer = {"type": CONVERSATION_LIVE, "conversation_id": conversation_id, "after": after}
    return json.dumps(pointer, separators=(",", ":"))


def device_channel(device_id: int) -> str:
    """Commands to one hologram device (services/devices/channels.py names their kinds)."""
    return f"device:{device_id}"


def pairing_channel(device_code_hash: str) -> str:
    """Wakes a device waiting on ``devicePairing`` when its code is approved or denied."""
    return f"pairing:{device_code_hash[:32]}"


def owner_devices_channel(user_id: int) -> str:
    """Status changes of a person's devices: what ``deviceStatusChanged`` follows."""
    return f"user:{user_id}:devices"
