"""Input checks that answer ``BAD_USER_INPUT`` naming the offending field."""

from __future__ import annotations

import re

from services.errors import BadUserInput

_EMAIL = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def is_email(value: str) -> bool:
    return len(value) <= 254 and _EMAIL.match(value) is not None and not _CONTROL.search(value)


def email(value: str, field: str = "email") -> str:
    value = value.strip().lower()
    if not is_email(value):
        raise BadUserInput("Enter a valid email address", field=field)
    return value


def text(value: str, field: str, *, min_len: int = 0, max_len: int, strip: bool = True) -> str:
    cleaned = value.strip() if strip else value
    if _CONTROL.search(cleaned):
        raise BadUserInput("Control characters are not allowed", field=field)
    if len(cleaned) < min_len:
        raise BadUserInput(
            "Must not be empty" if min_len == 1 else f"Must be at least {min_len} characters",
            field=field,
        )
    if len(cleaned) > max_len:
        raise BadUserInput(f"Must be at most {max_len} characters", field=field)
    return cleaned


def password(value: str, field: str = "password") -> str:
    if len(value) < 8:
        raise BadUserInput("Password must be at least 8 characters", field=field)
    if len(value) > 256:
        raise BadUserInput("Password must be at most 256 characters", field=field)
    return value


def string_list(values: list[str], field: str, *, max_items: int, max_len: int) -> list[str]:
    if len(values) > max_items:
        raise BadUserInput(f"At most {max_items} items", field=field)
    return [text(v, field, min_len=1, max_len=max_len) for v in values]


def language(value: str, field: str = "language") -> str:
    if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?", value):
        raise BadUserInput("Use a BCP 47 language tag such as 'en' or 'en-US'", field=field)
    return value


def number(value: float, field: str, *, low: float, high: float) -> float:
    # NaN fails both comparisons and infinities the bounds: only finite values in range pass.
    if not low <= value <= high:
        raise BadUserInput(f"Must be between {low} and {high}", field=field)
    return value
