"""Kinds of the commands a device receives on its channel, and their envelope (the channel
names themselves: services/channels.py)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

# Commands a device receives in hologramEvents, and ones only the stream itself acts on.
COMPANION_SWITCHED = "CompanionSwitched"
PLAY_ANIMATION = "PlayAnimation"
VOLUME_CHANGED = "VolumeChanged"
SLEEP_CHANGED = "SleepChanged"
REVOKED = "Revoked"  # internal: close the device's sockets
SPEAKING_CHANGED = "SpeakingChanged"  # internal: start or stop passing audio on


def command(kind: str, at: datetime, data: dict[str, Any]) -> str:
    return json.dumps({"type": kind, "at": at.isoformat(), "data": data}, separators=(",", ":"))
