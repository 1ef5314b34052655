"""Hub channel names of the device feature, and the envelope of a device command."""

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


def pairing_channel(device_code_hash: str) -> str:
    return f"pairing:{device_code_hash[:32]}"


def device_channel(device_id: int) -> str:
    return f"device:{device_id}"


def companion_channel(companion_id: int) -> str:
    return f"companion:{companion_id}"


def owner_devices_channel(user_id: int) -> str:
    return f"user:{user_id}:devices"


def command(kind: str, at: datetime, data: dict[str, Any]) -> str:
    return json.dumps({"type": kind, "at": at.isoformat(), "data": data}, separators=(",", ":"))
