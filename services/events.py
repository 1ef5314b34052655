"""The wire form of conversation events: one JSON envelope per event in the replay log.

Audio is logged by storage key, not URL, so every delivery (live or replayed days later)
gets a freshly signed URL.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from pipeline import events as ev
from store.models import Message


def message_snapshot(row: Message) -> dict[str, Any]:
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "author_id": row.author_id,
        "role": row.role.value,
        "text": row.text,
        "status": row.status.value,
        "created_at": row.created_at.isoformat(),
        "completed_at": row.completed_at.isoformat() if row.completed_at else None,
        "timings": row.timings or {},
        "error_code": row.error_code,
        "reply_to_id": row.reply_to_id,
    }


def envelope(
    kind: str, conversation_id: int, message_id: int, at: datetime, data: dict[str, Any]
) -> str:
    return json.dumps(
        {
            "type": kind,
            "conversation_id": conversation_id,
            "message_id": message_id,
            "at": at.isoformat(),
            "data": data,
        },
        separators=(",", ":"),
    )


def reply_event_data(
    event: ev.ReplyEvent, media_prefix: str = "/media/"
) -> tuple[str, dict[str, Any]]:
    kind = type(event).__name__
    data = asdict(event)
    if isinstance(event, ev.AudioChunk):
        data.pop("url")
        data["key"] = key_from_url(event.url, media_prefix)
    return kind, data


def key_from_url(url: str, media_prefix: str = "/media/") -> str:
    path = unquote(urlsplit(url).path)
    return path[len(media_prefix) :] if path.startswith(media_prefix) else path.lstrip("/")
