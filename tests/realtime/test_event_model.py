"""One event model: every live event is declared once (pipeline/events.py), logged by one codec
and shown by GraphQL types derived from the declaration; audio is signed when delivered."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry

from api.graphql_schema import build_schema
from pipeline import events as ev
from pipeline.event_codec import (
    decode_command,
    decode_event,
    encode_command,
    encode_event,
    from_data,
    to_data,
)
from schema.types.derived import derive
from schema.types.devices import HologramEvent, command_from_payload
from schema.types.events import VALUES, ConversationEvent, EventBase, event_from_payload

AT = datetime(2026, 11, 29, 12, 0, 0, 250000, tzinfo=UTC)
MESSAGE = ev.MessageSnapshot(
    id=7,
    conversation_id=3,
    author_id=5,
    role="user",
    text="Hi Nova",
    status="complete",
    created_at=AT,
    completed_at=AT,
    timings={"stt_ms": 120},
    error_code=None,
    reply_to_id=None,
)
MEMORY = ev.MemorySnapshot(
    id=11,
    author_id=5,
    companion_id=2,
    text="Has a cat called Miso",
    kind="pet",
    importance=0.7,
    origin="extracted",
    conversation_id=3,
    message_id=7,
    created_at=AT,
    updated_at=AT,
    last_recalled_at=None,
)
SAMPLES: list[Any] = [
    ev.MessagePosted(MESSAGE),
    ev.ReplyStarted("SmolLM2-135M-Instruct", fallback=True),
    ev.MessageDelta(0, "Hello"),
    ev.AudioChunk(0, ev.StorageKey("users/5/audio/8/0.wav"), "audio/wav", 0, 400, "Hello."),
    ev.VisemeFrames(
        0, (ev.VisemeFrame(ev.Viseme.AA, 0, 80), ev.VisemeFrame(ev.Viseme.SIL, 80, 90))
    ),
    ev.EmotionChanged(ev.Emotion.joy, 0.7, 0),
    ev.ReplyDegraded(ev.AUDIO_STORAGE_FAILED, "audio could not be stored"),
    ev.ReplyCompleted(MESSAGE),
    ev.ReplyInterrupted("Hello", MESSAGE),
    ev.ReplyFailed("PROVIDER_UNAVAILABLE", "down", retryable=True),
    ev.MemoryFormed(MEMORY),
    ev.VoiceSpeechStarted(5, "vs_0a1b2c3d_x", 1520),
    ev.VoicePartialTranscript(5, "vs_0a1b2c3d_x", "hello how", 2500),
    ev.VoiceTurnEnded(5, "vs_0a1b2c3d_x", 1520, 3980, 2200),
    ev.VoiceFinalTranscript(
        5,
        "vs_0a1b2c3d_x",
        "hello how are you",
        "MESSAGE",
        "",
        (ev.VoiceWord("hello", 1500, 1800), ev.VoiceWord("you", 3600, 3900)),
    ),
    ev.VoiceSessionClosed(5, "vs_0a1b2c3d_x", "IDLE", "no audio for 10 s"),
]
COMMAND_SAMPLES: list[Any] = [
    ev.CompanionSwitched(2, companion_after="0-1"),
    ev.PlayAnimation("wave", loop=False),
    ev.VolumeChanged(0.4),
    ev.SleepChanged(asleep=True),
    ev.Revoked(),
    ev.SpeakingChanged(speaks=False),
]


def sign(key: str) -> str:
    return f"https://media.test/{key}?sig=fresh"


def test_the_samples_cover_every_declared_event() -> None:
    assert {type(e) for e in SAMPLES} == set(ev.CONVERSATION_EVENTS)
    assert {type(c) for c in COMMAND_SAMPLES} == set(ev.COMMANDS)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_every_conversation_event_comes_back_from_the_log_as_it_went_in(event: Any) -> None:
    logged = decode_event(encode_event(3, 8, AT, event))
    assert (logged.conversation_id, logged.message_id, logged.at) == (3, 8, AT)
    assert logged.event == event and type(logged.event) is type(event)


@pytest.mark.parametrize("command", COMMAND_SAMPLES, ids=lambda c: type(c).__name__)
def test_every_device_command_comes_back_from_the_log_as_it_went_in(command: Any) -> None:
    logged = decode_command(encode_command(AT, command))
    assert logged.at == AT and logged.command == command


def test_the_log_line_keeps_its_shape_and_erasure_can_find_an_author() -> None:
    line = encode_event(3, 7, AT, ev.MessagePosted(MESSAGE))
    assert line.startswith('{"type":"MessagePosted","conversation_id":3,"message_id":7,"at":')
    assert '"author_id":5,' in line  # services/erasure.py scrubs by this marker
    assert '"author_id":5,' in encode_event(3, 7, AT, ev.MemoryFormed(MEMORY))
    audio = json.loads(encode_event(3, 8, AT, SAMPLES[3]))["data"]
    assert audio["key"] == "users/5/audio/8/0.wav" and "url" not in audio


def test_entries_logged_by_earlier_versions_still_decode() -> None:
    old_message = (
        '{"id":7,"conversation_id":3,"author_id":5,"role":"user","text":"Hi Nova",'
        '"status":"complete","created_at":"2026-11-29T12:00:00.250000+00:00",'
        '"completed_at":"2026-11-29T12:00:00.250000+00:00","timings":{"stt_ms":120},'
        '"error_code":null,"reply_to_id":null}'
    )
    head = '{"conversation_id":3,"message_id":8,"at":"2026-11-29T12:00:00.250000+00:00",'
    old = {
        # The URL was parsed back to its key and appended last.
        "AudioChunk": '{"seq":0,"mime_type":"audio/wav","start_ms":0,"duration_ms":400,'
        '"text":"Hello.","key":"users/5/audio/8/0.wav"}',
        "ReplyStarted": "{}",  # before it named the model
        "ReplyFailed": '{"code":"PROVIDER_UNAVAILABLE","detail":"down"}',  # before retryable
        "MessagePosted": '{"message":' + old_message + "}",
    }
    decoded = {
        kind: decode_event(head + f'"type":"{kind}","data":{data}}}').event
        for kind, data in old.items()
    }
    assert decoded["AudioChunk"] == SAMPLES[3]
    assert decoded["ReplyStarted"] == ev.ReplyStarted("", fallback=False)
    assert decoded["ReplyFailed"] == ev.ReplyFailed("PROVIDER_UNAVAILABLE", "down", False)
    assert decoded["MessagePosted"] == ev.MessagePosted(MESSAGE)
    # A lost reply's ReplyFailed carried its message, which nobody showed: ignored.
    with_message = f'{{"code":"X","detail":"d","retryable":true,"message":{old_message}}}'
    assert decode_event(head + f'"type":"ReplyFailed","data":{with_message}}}').event == (
        ev.ReplyFailed("X", "d", True)
    )
    switched = '{"type":"CompanionSwitched","at":"2026-11-29T12:00:00+00:00","data":'
    command = decode_command(switched + '{"companion_id":2,"companion_after":"0-1"}}').command
    assert command == ev.CompanionSwitched(2, "0-1")


def test_unknown_kinds_and_missing_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        decode_event('{"type":"Nope","conversation_id":1,"message_id":1,"at":"","data":{}}')
    with pytest.raises(ValueError, match="without 'text'"):
        from_data(ev.MessageDelta, {"seq": 1})
    with pytest.raises(TypeError):
        encode_event(1, 1, AT, ev.Revoked())  # type: ignore[arg-type]


def test_the_unions_have_every_declared_event_in_order() -> None:
    sdl = build_schema().as_str()
    for union, members in (
        ("ConversationEvent", ev.CONVERSATION_EVENTS),
        ("HologramEvent", ev.HOLOGRAM_EVENTS),
    ):
        assert f"union {union} = {' | '.join(t.__name__ for t in members)}\n" in sdl
    values = "".join(f"  {e.value}\n" for e in ev.Emotion)
    assert f"enum Emotion {{\n{values}}}" in sdl  # lower case, as clients have always seen


QUERY = """{
  events {
    __typename
    ... on EventBase { cursor conversationId messageId at }
    ... on MessagePosted { message { id text status role } }
    ... on AudioChunk { seq url mimeType startMs durationMs text }
    ... on VisemeFrames { audioSeq frames { viseme startMs endMs weight } }
    ... on EmotionChanged { emotion intensity atMs }
    ... on ReplyFailed { code detail retryable }
    ... on MemoryFormed { memory { id text origin messageId } }
  }
  commands {
    __typename
    ... on DeviceCommand { cursor at }
    ... on CompanionSwitched { companionId }
    ... on VolumeChanged { volume }
  }
}"""


def _query(**fields: tuple[Any, Any]) -> strawberry.Schema:
    """A schema whose Query fields return the given values as the given GraphQL types."""

    def const(value: Any) -> Any:
        return lambda: value

    namespace = {
        name: strawberry.field(resolver=const(value), graphql_type=graphql_type)
        for name, (graphql_type, value) in fields.items()
    }
    return strawberry.Schema(query=strawberry.type(type("Query", (), namespace)))


def test_a_logged_event_is_shown_with_its_audio_signed_at_delivery() -> None:
    logged = [encode_event(3, 8, AT, e) for e in SAMPLES]
    events = [event_from_payload(f"c{i}", line, sign) for i, line in enumerate(logged)]
    commands = [
        command_from_payload("d0", encode_command(AT, ev.CompanionSwitched(2, "0-1"))),
        command_from_payload("d1", json.loads(encode_command(AT, ev.VolumeChanged(0.4)))),
    ]
    schema = _query(
        events=(list[ConversationEvent], events), commands=(list[HologramEvent], commands)
    )
    result = schema.execute_sync(QUERY)
    assert result.errors is None, result.errors
    shown = result.data["events"]  # type: ignore[index]
    assert [e["__typename"] for e in shown] == [type(e).__name__ for e in SAMPLES]
    posted, audio, visemes, emotion = shown[0], shown[3], shown[4], shown[5]
    assert posted["cursor"] == "c0" and posted["at"] == AT.isoformat()
    assert posted["message"]["text"] == "Hi Nova" and posted["message"]["status"] == "COMPLETE"
    assert audio["url"] == "https://media.test/users/5/audio/8/0.wav?sig=fresh"
    assert (audio["startMs"], audio["durationMs"], audio["mimeType"]) == (0, 400, "audio/wav")
    assert visemes["frames"][0] == {"viseme": "aa", "startMs": 0, "endMs": 80, "weight": 1.0}
    assert emotion == {**emotion, "emotion": "joy", "intensity": 0.7, "atMs": 0}
    assert shown[9]["retryable"] is True
    assert shown[10]["memory"]["text"] == "Has a cat called Miso"
    switched, volume = result.data["commands"]  # type: ignore[index]
    assert switched["__typename"] == "CompanionSwitched" and "companionAfter" not in switched
    assert switched["companionId"] != "2" and switched["cursor"] == "d0"
    assert volume == {
        "__typename": "VolumeChanged",
        "cursor": "d1",
        "at": AT.isoformat(),
        "volume": 0.4,
    }


def test_the_stream_s_internal_commands_are_never_shown() -> None:
    with pytest.raises(ValueError, match="not shown to devices"):
        command_from_payload("d", encode_command(AT, ev.SpeakingChanged(speaks=True)))


def test_declaring_an_event_is_all_it_takes_for_its_log_form_and_graphql_type() -> None:
    @dataclass(frozen=True, slots=True)
    class Waved:
        """The companion waved."""

        hand: str
        clip: ev.StorageKey
        emotion: ev.Emotion | None = None

    waved = Waved("left", ev.StorageKey("clips/wave.glb"), ev.Emotion.joy)
    assert from_data(Waved, json.loads(json.dumps(to_data(waved)))) == waved
    derived = derive(Waved, (EventBase,), VALUES)
    built = derived.build(waved, sign, cursor="c", conversation_id="x", message_id="y", at=AT)
    schema = _query(last=(derived.graphql, built))
    sdl = schema.as_str()
    assert '"""The companion waved."""\ntype Waved implements EventBase {' in sdl
    assert "hand: String!\n  clipUrl: String!\n  emotion: Emotion\n" in sdl
    result = schema.execute_sync("{ last { ... on Waved { hand clipUrl emotion } } }")
    assert result.data == {
        "last": {"hand": "left", "clipUrl": sign("clips/wave.glb"), "emotion": "joy"}
    }
