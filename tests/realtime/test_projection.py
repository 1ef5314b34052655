"""The live projection gives exactly what graphql-core's ``execute`` gives for every declared
event and command, or declines (and the executor renders): same data, same key order."""

from __future__ import annotations

import json
from typing import Any

import pytest
from graphql import execute, parse

from api.graphql_schema import build_schema
from bench.load import APP, FIELDS
from live.projection import Projection
from live.seam import core_schema
from pipeline import events as ev
from pipeline.event_codec import encode_command, encode_event
from schema.types.devices import command_from_payload
from schema.types.events import event_from_payload
from tests.realtime.test_event_model import AT, COMMAND_SAMPLES, SAMPLES, sign

SCHEMA = core_schema(build_schema())
# The documents the load benchmark's app and hologram subscribe with (and a device command).
HOLOGRAM = f"subscription {{ hologramEvents {{ {FIELDS} ... on VolumeChanged {{ volume }} }} }}"
# Aliases, named fragments, fields merged from several places, __typename below the root.
TWISTED = """
subscription Live($id: ID!) {
  events: conversationEvents(conversationId: $id, after: "0") {
    kind: __typename
    ...Frames
    ... on VisemeFrames { frames { startMs } frames { viseme endMs __typename } }
    ... on EventBase { at cursor }
    ... on MessageDelta { words: text, text, seq }
    ...on AudioChunk { link: url url durationMs }
  }
}
fragment Frames on VisemeFrames { audioSeq frames { weight startMs } }
"""
# What only the executor can do: a directive, and fields with resolvers of their own.
DIRECTIVE = """subscription($id: ID!, $yes: Boolean!) { conversationEvents(conversationId: $id) {
  __typename ... on MessageDelta { text @include(if: $yes) seq } } }"""
RESOLVED = """subscription($id: ID!) { conversationEvents(conversationId: $id) {
  ... on MessagePosted { message { id author { id } } } } }"""
VARIABLES = {"id": "conversation_3", "yes": True}


def _events() -> list[Any]:
    lines = [encode_event(3, 8, AT, e) for e in SAMPLES]
    return [event_from_payload(f"c{i}", line, sign) for i, line in enumerate(lines)]


def _commands() -> list[Any]:
    shown = [c for c in COMMAND_SAMPLES if not isinstance(c, (ev.Revoked, ev.SpeakingChanged))]
    return [command_from_payload(f"d{i}", encode_command(AT, c)) for i, c in enumerate(shown)]


def _executed(query: str, event: Any) -> Any:
    result = execute(SCHEMA, parse(query), root_value=event, variable_values=VARIABLES)
    assert not isinstance(result, type(None))
    return result


@pytest.mark.parametrize(
    "query", [APP, TWISTED, DIRECTIVE, RESOLVED], ids=["app", "twisted", "directive", "resolved"]
)
def test_every_projected_event_is_what_execute_gives(query: str) -> None:
    projection = Projection(SCHEMA)
    document = parse(query)
    for event in _events():
        projected = projection.data(query, document, None, event)
        if projected is None:
            continue
        executed = _executed(query, event)
        assert not executed.errors, executed.errors
        # Same bytes on the wire: same values, same key order.
        assert json.dumps(projected) == json.dumps(executed.data), type(event).__name__


def test_a_hologram_s_events_and_commands_project_as_execute_gives_them() -> None:
    projection = Projection(SCHEMA)
    document = parse(HOLOGRAM)
    shown = 0
    for value in _events()[:10] + _commands():
        projected = projection.data(HOLOGRAM, document, None, value)
        executed = _executed(HOLOGRAM, value)
        if projected is not None and not executed.errors:
            assert json.dumps(projected) == json.dumps(executed.data)
            shown += 1
    assert shown >= 8


def test_the_events_of_a_streamed_reply_never_run_the_executor() -> None:
    projection = Projection(SCHEMA)
    for query in (APP, TWISTED):
        document = parse(query)
        plain = [
            e
            for e in _events()
            if type(e).__name__
            in {"MessageDelta", "AudioChunk", "VisemeFrames", "EmotionChanged", "ReplyStarted"}
        ]
        assert len(plain) == 5
        assert all(projection.data(query, document, None, e) is not None for e in plain)


def test_what_only_the_executor_can_do_is_left_to_it() -> None:
    projection = Projection(SCHEMA)
    events = {type(e).__name__: e for e in _events()}
    assert projection.data(DIRECTIVE, parse(DIRECTIVE), None, events["MessageDelta"]) is None
    posted = events["MessagePosted"]
    assert projection.data(RESOLVED, parse(RESOLVED), None, posted) is None
    assert ev.MessagePosted in ev.CONVERSATION_EVENTS
