"""The resume position of ``hologramEvents``: where it is in several streams at once.

``d:<cursor>|c:<companionId>:<cursor>`` (or ``c:-`` with no companion), then
``|v:<conversationId>:<cursor>`` for each conversation being followed: the device's command
channel, the assigned companion's channel (pointers to its live conversations) and those
conversations' own channels. Every event carries the position after it, so a device hands back
the last one it saw and misses nothing on any stream. The companion id is part of it because a
cursor means nothing on another companion's channel: after a switch while offline, the
replayed ``CompanionSwitched`` says where the new channel starts. Positions from before
conversations were followed (no ``v:`` parts) still decode.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.errors import BadUserInput

FOLLOWED_MAX = 4  # conversations followed at once; the one announced longest ago is let go


@dataclass(frozen=True, slots=True)
class HoloCursor:
    device: str
    companion_id: int | None
    companion: str | None
    conversations: tuple[tuple[int, str], ...] = ()  # oldest announced first

    def encode(self) -> str:
        tail = "-" if self.companion_id is None else f"{self.companion_id}:{self.companion}"
        followed = "".join(f"|v:{cid}:{cursor}" for cid, cursor in self.conversations)
        return f"d:{self.device}|c:{tail}{followed}"

    def with_device(self, cursor: str) -> HoloCursor:
        return replace(self, device=cursor)

    def with_companion(self, companion_id: int | None, cursor: str | None) -> HoloCursor:
        """On the same companion, the conversations followed stay; on another, none."""
        if companion_id != self.companion_id:
            return replace(self, companion_id=companion_id, companion=cursor, conversations=())
        return replace(self, companion=cursor)

    def following(self, conversation_id: int) -> bool:
        return any(cid == conversation_id for cid, _ in self.conversations)

    def with_conversation(self, conversation_id: int, cursor: str) -> HoloCursor:
        """Where the stream is in a followed conversation (a new one joins at the end)."""
        if self.following(conversation_id):
            followed = tuple(
                (cid, cursor if cid == conversation_id else at) for cid, at in self.conversations
            )
        else:
            followed = (*self.conversations, (conversation_id, cursor))[-FOLLOWED_MAX:]
        return replace(self, conversations=followed)

    @classmethod
    def decode(cls, value: str) -> HoloCursor:
        try:
            d_part, c_part, *v_parts = value.split("|")
            if not d_part.startswith("d:") or not c_part.startswith("c:"):
                raise ValueError(value)
            device = d_part[2:]
            rest = c_part[2:]
            followed = []
            for part in v_parts:
                if not part.startswith("v:"):
                    raise ValueError(value)
                cid, at = part[2:].split(":", 1)
                if not at:
                    raise ValueError(value)
                followed.append((int(cid), at))
            if len(followed) > FOLLOWED_MAX:
                raise ValueError(value)
            if rest == "-":
                if followed:
                    raise ValueError(value)
                return cls(device, None, None)
            cid, cursor = rest.split(":", 1)
            if not device or not cursor:
                raise ValueError(value)
            return cls(device, int(cid), cursor, tuple(followed))
        except ValueError as e:
            raise BadUserInput("Unknown cursor", field="after") from e
