"""JSON from a client, bounded: depth, number of values, and text that is valid Unicode.

``json.loads`` recurses, so ~1,000 levels of brackets (a 2 KB body) raised RecursionError; it
also takes ``NaN``, ``Infinity`` and lone surrogates (``"\\ud800"``), which later fail far from
the request (a driver cannot encode the text, an answer is not JSON). Each is refused here
with a code: ``BAD_REQUEST`` for malformed or oversized JSON, ``BAD_USER_INPUT`` (with the
``field``: a variable's name, ``query``, ``operationName``) for text that is not Unicode.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from services.errors import AppError, BadRequest, BadUserInput

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class JsonLimits:
    max_depth: int = 32
    max_values: int = 10_000


def loads(data: str | bytes, limits: JsonLimits) -> object:
    """A request body (or its ``variables`` parameter), or an ``AppError`` saying why not."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise _too_deep(limits) from None
    except UnicodeDecodeError:
        raise BadUserInput("The request body is not valid UTF-8", field="body") from None
    except ValueError:  # not JSON, NaN/Infinity, an integer of more than 4,300 digits
        raise BadRequest("Unable to parse request body as JSON") from None
    if not isinstance(value, dict | list):  # a string, a number, null: no request at all
        raise BadRequest("The request body must be a JSON object")
    problem = first_problem(value, limits, label_depth=2)
    if problem is not None:
        raise problem
    return value


def first_problem(value: object, limits: JsonLimits, *, label_depth: int = 1) -> AppError | None:
    """The first reason ``value`` is refused, walking it without recursion.

    A string's ``field`` is the key naming it ``label_depth`` levels down (a variable's name,
    for a request body at 2 or its ``variables`` at 1), or a shallower key (``query``).
    """
    count = 0
    stack: list[tuple[Any, int, str | None]] = [(value, 0, None)]
    while stack:
        item, depth, label = stack.pop()
        count += 1
        if count > limits.max_values:
            return BadRequest(
                f"The request holds more than {limits.max_values} JSON values",
                maxValues=limits.max_values,
            )
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return _not_unicode(label)
        elif isinstance(item, dict):
            if depth >= limits.max_depth:
                return _too_deep(limits)
            for key, child in item.items():
                if _SURROGATE.search(key):
                    return _not_unicode(label or key)
                stack.append((child, depth + 1, key if depth < label_depth else label))
        elif isinstance(item, list):
            if depth >= limits.max_depth:
                return _too_deep(limits)
            stack.extend((child, depth + 1, label) for child in item)
    return None


def _too_deep(limits: JsonLimits) -> BadRequest:
    return BadRequest(
        f"The request's JSON is nested deeper than {limits.max_depth} levels",
        maxDepth=limits.max_depth,
    )


def _not_unicode(label: str | None) -> BadUserInput:
    return BadUserInput("Text must be valid Unicode (a lone surrogate is not)", field=label)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")
