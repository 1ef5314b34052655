"""Voice sessions: a person streams microphone audio over the GraphQL socket they already hold;
the server hears where speech starts and a turn ends (pipeline/vad.py), transcribes it in the
speech-to-text workers, sends it as the person's message (the reply starts at once) and stops a
reply playing on the device when the person speaks over it.

chunks.py checks one chunk (its codes), session.py runs one session in its own task,
outcomes.py turns a finished turn into the person's message (or says why not), config.py holds
what a session is configured with, registry.py a process's sessions and their limits. A
session lives in the process that started it; its events go on the conversation's channel like
any other.
"""

from services.voice_sessions.chunks import ChunkRefused, Playback
from services.voice_sessions.registry import VoiceConfig, VoiceSessions
from services.voice_sessions.session import VoiceSession

__all__ = ["ChunkRefused", "Playback", "VoiceConfig", "VoiceSession", "VoiceSessions"]
