"""The resume position of ``hologramEvents``: where it is in two streams at once.

``d:<cursor>|c:<companionId>:<cursor>`` (or ``c:-`` with no companion): the device's command
channel and the assigned companion's reply channel. Every event carries the position after it,
so a device hands back the last one it saw and misses nothing on either stream. The companion id
is part of it because a cursor means nothing on another companion's channel: after a switch
while offline, the replayed ``CompanionSwitched`` says where the new channel starts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.errors import BadUserInput


@dataclass(frozen=True, slots=True)
class HoloCursor:
    device: str
    companion_id: int | None
    companion: str | None

    def encode(self) -> str:
        tail = "-" if self.companion_id is None else f"{self.companion_id}:{self.companion}"
        return f"d:{self.device}|c:{tail}"

    def with_device(self, cursor: str) -> HoloCursor:
        return replace(self, device=cursor)

    def with_companion(self, companion_id: int | None, cursor: str | None) -> HoloCursor:
        return replace(self, companion_id=companion_id, companion=cursor)

    @classmethod
    def decode(cls, value: str) -> HoloCursor:
        try:
            d_part, c_part = value.split("|", 1)
            if not d_part.startswith("d:") or not c_part.startswith("c:"):
                raise ValueError(value)
            device = d_part[2:]
            rest = c_part[2:]
            if rest == "-":
                return cls(device, None, None)
            cid, cursor = rest.split(":", 1)
            if not device or not cursor:
                raise ValueError(value)
            return cls(device, int(cid), cursor)
        except ValueError as e:
            raise BadUserInput("Unknown cursor", field="after") from e
