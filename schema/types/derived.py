"""GraphQL object types derived from the declared live events (pipeline/events.py).

Each declared dataclass becomes one Strawberry type, built once at import from its fields:
the docstring and ``about(...)`` metadata give the descriptions, ``INTERNAL`` fields stay on
the server, a ``StorageKey`` field ``key`` is shown as ``url`` (signed at delivery, the one
place a URL is made), a ``NODE`` field as that node's global ID, and nested values by the
schema types given in ``values``. ``Derived.build`` turns a decoded event into its object.
"""

from __future__ import annotations

import dataclasses
import enum
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin, get_type_hints

import strawberry

from pipeline import events as ev
from schema import ids

Sign = Callable[[str], str]
"""Makes a fresh, expiring URL for a storage key."""
Convert = Callable[[Any, Sign], Any]
Values = Mapping[Any, tuple[Any, Convert]]
"""Declared value types shown as a given schema type: ``{declared: (schema type, convert)}``."""


@dataclass(frozen=True, slots=True)
class Derived:
    """One declared class, its Strawberry type, and how each shown field is converted."""

    declared: type[Any]
    graphql: type[Any]
    fields: tuple[tuple[str, Convert], ...]

    def build(self, value: Any, sign: Sign, **common: Any) -> Any:
        return self.graphql(
            **common, **{name: convert(getattr(value, name), sign) for name, convert in self.fields}
        )


def derive(declared: type[Any], bases: tuple[type[Any], ...], values: Values) -> Derived:
    hints = get_type_hints(declared)
    namespace: dict[str, Any] = {"__annotations__": {}, "__module__": __name__}
    shown: list[tuple[str, Convert]] = []
    for f in dataclasses.fields(declared):
        if f.metadata.get(ev.INTERNAL):
            continue
        annotation, convert = _shape(hints[f.name], f.metadata.get(ev.NODE), values)
        graphql_name = _url_name(f.name) if _unwrap(hints[f.name]) is ev.StorageKey else None
        namespace["__annotations__"][f.name] = annotation
        namespace[f.name] = strawberry.field(
            description=f.metadata.get(ev.DESCRIPTION), name=graphql_name
        )
        shown.append((f.name, convert))
    cls = type(declared.__name__, bases, namespace)
    graphql = strawberry.type(cls, description=description_of(declared))
    return Derived(declared, graphql, tuple(shown))


def description_of(declared: type[Any]) -> str | None:
    """The docstring on one line; none for a class without one (not dataclass's signature)."""
    doc = declared.__doc__
    if not doc or doc.startswith(f"{declared.__name__}("):
        return None
    return " ".join(doc.split())


def _shape(tp: Any, node: str | None, values: Values) -> tuple[Any, Convert]:
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        inner = next(a for a in args if a is not type(None))
        annotation, convert = _shape(inner, node, values)
        return annotation | None, lambda v, sign: None if v is None else convert(v, sign)
    if node is not None:
        return strawberry.ID, lambda v, sign: strawberry.ID(ids.encode(node, v))
    if origin is tuple:
        annotation, convert = _shape(args[0], None, values)
        return list[annotation], lambda v, sign: [convert(x, sign) for x in v]  # type: ignore[valid-type]
    if tp in values:
        return values[tp]
    if tp is ev.StorageKey:
        return str, lambda key, sign: sign(key)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return str, lambda v, sign: v.value
    if tp in (int, str, float, bool):
        return tp, _same
    raise TypeError(f"no GraphQL form for {tp!r}")


def _unwrap(tp: Any) -> Any:
    args = [a for a in get_args(tp) if a is not type(None)]
    return args[0] if get_origin(tp) in (Union, types.UnionType) else tp


def _url_name(name: str) -> str:
    """``key`` -> ``url``, ``audio_key`` -> ``audioUrl``, ``clip`` -> ``clipUrl``: clients get
    the signed URL, never the key."""
    base = name.removesuffix("key").rstrip("_")
    return _camel(f"{base}_url" if base else "url")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _same(value: Any, sign: Sign) -> Any:
    return value
