"""A microphone as a client app streams it: 16 kHz mono PCM16 in 100 ms chunks, sent as
``sendVoiceChunk`` over the GraphQL socket in real time, while the same socket follows the
conversation's events."""

from __future__ import annotations

import asyncio
import base64
import random
import time
from array import array
from collections.abc import AsyncGenerator, Awaitable
from functools import cache
from typing import Any, TypeVar

from gql import Client, gql
from gql.client import AsyncClientSession

from pipeline.audio import decode_to_pcm16_mono
from tests.support.voice import speech_wav

T = TypeVar("T")

RATE = 16_000
CHUNK_MS = 100
CHUNK_BYTES = RATE * 2 * CHUNK_MS // 1000
SENTENCE = "hello how are you today tell me about the stars tonight"

START = gql(
    "mutation($c: ID!) { startVoiceSession(conversationId: $c) "
    "{ id conversationId sampleRate maxChunkMs endSilenceMs bargeInMs } }"
)
CHUNK_TEXT = (
    "mutation($s: ID!, $q: Int!, $a: String!, $p: VoicePlaybackInput) "
    "{ sendVoiceChunk(sessionId: $s, seq: $q, audio: $a, playing: $p) { seq receivedMs } }"
)
CHUNK = gql(CHUNK_TEXT)
END = gql("mutation($s: ID!) { endVoiceSession(sessionId: $s) { id } }")
VOICE_EVENTS = gql("""
subscription Events($id: ID!, $after: String) {
  conversationEvents(conversationId: $id, after: $after) {
    __typename
    ... on EventBase { cursor messageId }
    ... on MessagePosted { message { id text role } }
    ... on AudioChunk { seq durationMs text }
    ... on ReplyCompleted { message { id text status } }
    ... on ReplyInterrupted { heardText message { id text status } }
    ... on VoiceSpeechStarted { sessionId atMs authorId }
    ... on VoicePartialTranscript { sessionId text throughMs }
    ... on VoiceTurnEnded { sessionId startMs endMs voicedMs }
    ... on VoiceFinalTranscript {
      sessionId text outcome detail words { word startMs endMs }
    }
    ... on VoiceSessionClosed { sessionId reason detail }
  }
}
""")


@cache
def speech_pcm(sentence: str = SENTENCE) -> bytes:
    """espeak-ng saying ``sentence``, as the 16 kHz mono PCM16 a microphone streams."""
    return decode_to_pcm16_mono(speech_wav(sentence=sentence), "audio/wav", RATE, "test")


def silence(ms: int) -> bytes:
    return bytes(RATE * 2 * ms // 1000)


def noise(ms: int, level: int = 8000, seed: int = 7) -> bytes:
    """A loud burst (a cough, a door): white noise at ``level`` (16-bit units)."""
    gauss = random.Random(seed).gauss
    n = RATE * ms // 1000
    return array("h", (max(-32768, min(32767, int(gauss(0, level)))) for _ in range(n))).tobytes()


def chunks(pcm: bytes) -> list[bytes]:
    return [pcm[i : i + CHUNK_BYTES] for i in range(0, len(pcm), CHUNK_BYTES)]


class Mic:
    """One voice session on a gql session: ``stream`` paces chunks in real time."""

    def __init__(self, session: AsyncClientSession, session_id: str) -> None:
        self.session = session
        self.id = session_id
        self.seq = 0

    @classmethod
    async def start(cls, session: AsyncClientSession, conversation: str) -> Mic:
        started = await session.execute(START, variable_values={"c": conversation})
        return cls(session, started["startVoiceSession"]["id"])

    async def send(self, pcm: bytes, playing: dict[str, Any] | None = None) -> dict[str, Any]:
        values = {
            "s": self.id,
            "q": self.seq,
            "a": base64.b64encode(pcm).decode(),
            "p": playing,
        }
        answer: dict[str, Any] = await self.session.execute(CHUNK, variable_values=values)
        self.seq += 1
        return answer

    async def stream(
        self, pcm: bytes, playing: dict[str, Any] | None = None, *, began: float | None = None
    ) -> float:
        """Send ``pcm`` in real time; returns the monotonic time the last chunk went out.
        Given ``began`` (when the first sample was "recorded"), each chunk goes out once all of
        it has been, as from a microphone; else each goes out at its own start."""
        lag = 1 if began is not None else 0
        began = time.monotonic() if began is None else began
        for i, chunk in enumerate(chunks(pcm)):
            due = began + (i + lag) * CHUNK_MS / 1000
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await self.send(chunk, playing)
        return time.monotonic()

    async def quiet_until(self, waited: Awaitable[T]) -> T:
        """Send silence in real time until ``waited`` is done, as an open microphone does
        while its person listens (a session sent nothing closes after its idle timeout)."""
        task = asyncio.ensure_future(waited)
        while not task.done():
            await asyncio.wait([task], timeout=CHUNK_MS / 1000)
            if not task.done():
                await self.send(silence(CHUNK_MS))
        return task.result()

    async def end(self) -> None:
        await self.session.execute(END, variable_values={"s": self.id})


class Events:
    """The conversation's events as they arrive on the same socket."""

    def __init__(self, events: AsyncGenerator[dict[str, Any], None]) -> None:
        self._events = events
        self.seen: list[dict[str, Any]] = []

    @classmethod
    def follow(cls, session: AsyncClientSession, conversation: str, after: str) -> Events:
        return cls(
            session.subscribe(VOICE_EVENTS, variable_values={"id": conversation, "after": after})
        )

    async def until(self, typename: str, within_s: float = 30, **fields: Any) -> dict[str, Any]:
        """Read on to the first event of ``typename`` whose ``fields`` match."""
        deadline = time.monotonic() + within_s
        while True:
            left = deadline - time.monotonic()
            event: dict[str, Any] = (await asyncio.wait_for(anext(self._events), left))[
                "conversationEvents"
            ]
            self.seen.append(event)
            if event["__typename"] == typename and all(
                event.get(k) == v for k, v in fields.items()
            ):
                return event

    async def until_any(self, within_s: float = 30) -> dict[str, Any]:
        """The next event, whatever it is."""
        event: dict[str, Any] = (await asyncio.wait_for(anext(self._events), within_s))[
            "conversationEvents"
        ]
        self.seen.append(event)
        return event

    def of(self, typename: str) -> list[dict[str, Any]]:
        return [e for e in self.seen if e["__typename"] == typename]

    async def aclose(self) -> None:
        await self._events.aclose()


def client(url: str, token: str, protocol: str) -> Client:
    from gql.transport.websockets import WebsocketsTransport

    transport = WebsocketsTransport(
        url=url, subprotocols=[protocol], init_payload={"authorization": f"Bearer {token}"}
    )
    return Client(transport=transport, fetch_schema_from_transport=False)
