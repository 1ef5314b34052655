"""Kinds of the commands logged on a device's channel, by name (the commands themselves are
declared in pipeline/events.py and logged by pipeline/event_codec.py; the channel names are in
services/channels.py)."""

from __future__ import annotations

from typing import Final

from pipeline import events as ev

# Commands a device receives in hologramEvents, and ones only the stream itself acts on.
COMPANION_SWITCHED: Final = ev.CompanionSwitched.__name__
PLAY_ANIMATION: Final = ev.PlayAnimation.__name__
VOLUME_CHANGED: Final = ev.VolumeChanged.__name__
SLEEP_CHANGED: Final = ev.SleepChanged.__name__
REVOKED: Final = ev.Revoked.__name__  # internal: close the device's sockets
SPEAKING_CHANGED: Final = ev.SpeakingChanged.__name__  # internal: start or stop passing audio on
