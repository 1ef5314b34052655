"""The replay log's JSON for live events, and back: one codec for every declared event.

A conversation event is logged as ``{"type", "conversation_id", "message_id", "at", "data"}``,
a device command as ``{"type", "at", "data"}``; ``type`` is the class name and ``data`` its
fields in declaration order (erasure relies on that order, see pipeline/events.py). Each
field is encoded by its declared type: datetimes as ISO strings, enums by value, nested values
as objects. Decoding ignores keys it does not know and fills fields missing from older entries
with their defaults, so entries logged by earlier versions still decode.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, Union, get_args, get_origin, get_type_hints

from pipeline import events as ev

E = TypeVar("E")
Encode = Callable[[Any], Any]
Decode = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class LoggedEvent(Generic[E]):
    """A conversation event as the log holds it: which conversation and message, and when."""

    conversation_id: int
    message_id: int
    at: datetime
    event: E


@dataclass(frozen=True, slots=True)
class LoggedCommand:
    """A command on a device's channel, and when it was given."""

    at: datetime
    command: ev.Command


_CONVERSATION_KINDS: dict[str, type[ev.ConversationEvent]] = {
    cls.__name__: cls for cls in ev.CONVERSATION_EVENTS
}
_COMMAND_KINDS: dict[str, type[ev.Command]] = {cls.__name__: cls for cls in ev.COMMANDS}


def encode_event(
    conversation_id: int, message_id: int, at: datetime, event: ev.ConversationEvent
) -> str:
    """One entry of a conversation's log."""
    if type(event).__name__ not in _CONVERSATION_KINDS:
        raise TypeError(f"{type(event).__name__} is not a declared conversation event")
    return _dumps(
        {
            "type": type(event).__name__,
            "conversation_id": conversation_id,
            "message_id": message_id,
            "at": at.isoformat(),
            "data": to_data(event),
        }
    )


def decode_event(payload: str | bytes | Mapping[str, Any]) -> LoggedEvent[ev.ConversationEvent]:
    entry = _loads(payload)
    event = event_of(entry["type"], entry["data"])
    at = datetime.fromisoformat(entry["at"])
    return LoggedEvent(int(entry["conversation_id"]), int(entry["message_id"]), at, event)


def event_of(kind: str, data: Mapping[str, Any]) -> ev.ConversationEvent:
    """The conversation event named ``kind`` from its logged data."""
    cls = _CONVERSATION_KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown event type {kind!r}")
    return from_data(cls, data)


def encode_command(at: datetime, command: ev.Command) -> str:
    if type(command).__name__ not in _COMMAND_KINDS:
        raise TypeError(f"{type(command).__name__} is not a declared device command")
    return _dumps({"type": type(command).__name__, "at": at.isoformat(), "data": to_data(command)})


def decode_command(payload: str | bytes | Mapping[str, Any]) -> LoggedCommand:
    entry = _loads(payload)
    cls = _COMMAND_KINDS.get(entry["type"])
    if cls is None:
        raise ValueError(f"unknown device command {entry['type']!r}")
    return LoggedCommand(datetime.fromisoformat(entry["at"]), from_data(cls, entry["data"]))


def to_data(value: Any) -> dict[str, Any]:
    """A declared value's fields as JSON-ready data, in declaration order."""
    return {name: encode(getattr(value, name)) for name, encode, _, _ in _fields(type(value))}


def from_data(cls: type[E], data: Mapping[str, Any]) -> E:
    """The declared value back from its data; missing fields take their defaults."""
    kwargs: dict[str, Any] = {}
    for name, _, decode, required in _fields(cls):
        if name in data:
            kwargs[name] = decode(data[name])
        elif required:
            raise ValueError(f"{cls.__name__} without {name!r}")
    return cls(**kwargs)


Field = tuple[str, Encode, Decode, bool]  # name, to JSON, from JSON, required
_FIELDS: dict[type[Any], tuple[Field, ...]] = {}


def _fields(cls: type[Any]) -> tuple[Field, ...]:
    """Each field's codec, worked out once per class from its declared types."""
    known = _FIELDS.get(cls)
    if known is None:
        known = _FIELDS[cls] = _work_out(cls)
    return known


def _work_out(cls: type[Any]) -> tuple[Field, ...]:
    hints = get_type_hints(cls)
    return tuple(
        (
            f.name,
            *_codec(hints[f.name]),
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
    )


def _codec(tp: Any) -> tuple[Encode, Decode]:
    """How one declared field type goes to JSON and back."""
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"only optional unions are supported, not {tp}")
        enc, dec = _codec(inner[0])
        return (lambda v: None if v is None else enc(v)), (lambda v: None if v is None else dec(v))
    if origin is tuple:
        enc, dec = _codec(args[0])
        return (lambda v: [enc(x) for x in v]), (lambda v: tuple(dec(x) for x in v))
    if origin is dict:
        return _same, _same
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        cls: type[Any] = tp
        return to_data, (lambda v: from_data(cls, v))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        enum_cls: type[enum.Enum] = tp
        return (lambda v: v.value), enum_cls
    if tp is datetime:
        return (lambda v: v.isoformat()), datetime.fromisoformat
    if tp is float:
        return _same, float
    if tp in (int, str, bool) or tp is ev.StorageKey:
        return _same, _same
    raise TypeError(f"no JSON form for {tp!r}")


def _same(value: Any) -> Any:
    return value


def _dumps(entry: dict[str, Any]) -> str:
    return json.dumps(entry, separators=(",", ":"))


def _loads(payload: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(payload, Mapping):
        return payload
    loaded: Mapping[str, Any] = json.loads(payload)
    return loaded
