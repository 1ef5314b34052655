"""What a client may send on each GraphQL WebSocket protocol, and the codes a socket closes with.

Strawberry's handlers index into a message as if its shape were right: a list, an object ``id``
or a string ``payload`` raised inside the handler, which dropped the socket with no close frame
and logged a traceback. Every client message is checked here first; a violation closes that
socket alone with 4400 and the reason (graphql-transport-ws: "4400: <reason>"). The reasons are
those of the graphql-ws reference server, which clients show as they are.

A ``connection_init`` payload may be null (the protocol's ``Record<string, unknown> | null``):
no connection params, an anonymous socket.

The legacy ``graphql-ws`` protocol (subscriptions-transport-ws) defines no close codes; it gets
the same ones, and a ``connection_error`` message first (``api.ws_handlers``).
"""

from __future__ import annotations

BAD_REQUEST = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403  # connection_init refused (a bad, expired or revoked token)
INIT_TIMEOUT = 4408
TOO_MANY_INITS = 4429
MESSAGE_TOO_BIG = 1009  # RFC 6455, what the server itself sends past its --ws-max-size

NOT_TEXT = "WebSocket message type must be text"
NOT_JSON = "WebSocket message must be valid JSON"
TOO_DEEP = "WebSocket message is nested too deeply"
INIT_TIMED_OUT = "Connection initialisation timeout"

_WITH_PAYLOAD = ("connection_init", "ping", "pong")  # an optional object payload


def transport_ws_violation(message: object) -> str | None:
    """Why ``message`` is not a graphql-transport-ws client message, or None when it is."""
    kind, reason = _type_of(message)
    if reason is not None or not isinstance(message, dict):
        return reason
    if kind in _WITH_PAYLOAD:
        return _optional_object(message, "payload", kind)
    if kind == "subscribe":
        return _id(message, kind) or _operation(message.get("payload"), kind)
    if kind == "complete":
        return _id(message, kind)
    return _unexpected(kind)


def legacy_ws_violation(message: object) -> str | None:
    """Why ``message`` is not a subscriptions-transport-ws client message, or None."""
    kind, reason = _type_of(message)
    if reason is not None or not isinstance(message, dict):
        return reason
    if kind == "connection_init":
        return _optional_object(message, "payload", kind)
    if kind == "connection_terminate":
        return None
    if kind == "start":
        return _id(message, kind) or _operation(message.get("payload"), kind)
    if kind == "stop":
        return _id(message, kind)
    return _unexpected(kind)


def _type_of(message: object) -> tuple[str, str | None]:
    if not isinstance(message, dict):
        return "", f"Message is expected to be an object, but got {_kind(message)}"
    kind = message.get("type")
    if kind is None:
        return "", "Message is missing the 'type' property"
    if not isinstance(kind, str):
        return "", f"Message expects the 'type' property to be a string, but got {_kind(kind)}"
    return kind, None


def _id(message: dict[str, object], kind: str) -> str | None:
    value = message.get("id")
    if not isinstance(value, str):
        return _expects(kind, "'id' property", "a string", value)
    if not value:
        return f"\"{kind}\" message requires a non-empty 'id' property"
    return None


def _operation(payload: object, kind: str) -> str | None:
    if not isinstance(payload, dict):
        return _expects(kind, "'payload' property", "an object", payload)
    query = payload.get("query")
    if not isinstance(query, str):
        return _expects(kind, "payload's 'query'", "a string", query)
    for key in ("variables", "extensions"):
        if (reason := _optional_object(payload, key, kind, "payload's ")) is not None:
            return reason
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        return _expects(kind, "payload's 'operationName'", "a string or null", name)
    return None


def _optional_object(holder: dict[str, object], key: str, kind: str, where: str = "") -> str | None:
    value = holder.get(key)
    if value is None or isinstance(value, dict):
        return None
    return _expects(kind, f"{where}'{key}'" + ("" if where else " property"), "an object", value)


def _expects(kind: str, what: str, expected: str, value: object) -> str:
    return f'"{kind}" message expects the {what} to be {expected}, but got {_kind(value)}'


def _unexpected(kind: str) -> str:
    shown = ascii(kind[:24]) + ("..." if len(kind) > 24 else "")
    return f"Unexpected message of type {shown} received"


def _kind(value: object) -> str:
    """The JSON name of a value's type (never the value: a reason must stay short)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def close_reason(reason: str) -> str:
    """``reason`` cut to what a close frame carries (123 bytes of UTF-8); longer ones fail the
    close itself (Strawberry puts message ids and syntax errors in reasons)."""
    encoded = reason.encode("utf-8", "replace")
    if len(encoded) <= 123:
        return reason
    return encoded[:120].decode("utf-8", "ignore") + "..."
