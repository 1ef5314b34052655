"""The event log on Redis Streams, shared by every process that uses the same Redis.

One stream per channel (``<prefix><channel>``), trimmed with ``XADD ... MAXLEN ~ N`` and expired
when idle. Cursors are stream ids (``<ms>-<seq>``). Redis pub/sub loses what it cannot deliver;
this log is what lets a subscriber catch up. Without Redis persistence a Redis restart empties
it, and cursors from before the restart are refused (CursorExpired) rather than trusted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from pipeline.broadcast.errors import CursorExpired, InvalidCursor, LogUnavailable
from pipeline.broadcast.log_base import LOG_START, Appended, LogEntry

_STREAM_ID = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")
_FIELD = "p"
_ERASE_PAGE = 500  # entries read per XRANGE while erasing


class RedisStreamEventLog:
    def __init__(
        self,
        redis: Redis,
        max_len: int = 1000,
        *,
        key_prefix: str = "holomate:events:",
        idle_ttl_seconds: int | None = 7 * 24 * 3600,
        owns_client: bool = False,
    ) -> None:
        if max_len < 1:
            raise ValueError("max_len must be positive")
        self._redis = redis
        self._max_len = max_len
        self._prefix = key_prefix
        self._ttl = idle_ttl_seconds
        self._owns_client = owns_client

    @classmethod
    def from_url(cls, url: str, max_len: int = 1000, **options: Any) -> RedisStreamEventLog:
        from pipeline.broadcast.redis_backend import resilient_client_options

        client = Redis.from_url(url, **resilient_client_options(5.0))
        return cls(client, max_len, owns_client=True, **options)

    async def append(self, channel: str, payload: str) -> Appended:
        key = self._prefix + channel
        try:
            # MULTI/EXEC: nothing runs between reading the newest id and adding after it.
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xrevrange(key, count=1)
                pipe.xadd(key, {_FIELD: payload}, maxlen=self._max_len, approximate=True)
                if self._ttl is not None:
                    pipe.expire(key, self._ttl)
                newest, cursor, *_ = await pipe.execute()
        except (RedisError, OSError) as e:
            raise LogUnavailable(f"cannot append to {key!r}: {e}") from e
        prev = _text(newest[0][0]) if newest else LOG_START
        return Appended(cursor=_text(cursor), prev=prev)

    async def read_after(self, channel: str, after: str, limit: int) -> list[LogEntry]:
        self.cursor_key(after)
        key = self._prefix + channel
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.xrange(key, min=after, max=after, count=1)
                pipe.xrange(key, min="(" + after, count=limit)
                found, rows = await pipe.execute()
            if not found and not await self._nothing_lost_after(key, after):
                raise CursorExpired(channel, after)
        except (RedisError, OSError) as e:
            raise LogUnavailable(f"cannot read {key!r}: {e}") from e
        return [LogEntry(_text(entry_id), _text(fields[_key(fields)])) for entry_id, fields in rows]

    async def tail(self, channel: str) -> str:
        try:
            newest = await self._redis.xrevrange(self._prefix + channel, count=1)
        except (RedisError, OSError) as e:
            raise LogUnavailable(f"cannot read {channel!r}: {e}") from e
        return _text(newest[0][0]) if newest else LOG_START

    def cursor_key(self, cursor: str) -> tuple[int, ...]:
        if cursor == LOG_START:
            return (0, 0)
        match = _STREAM_ID.fullmatch(cursor)
        if match is None:
            raise InvalidCursor(cursor)
        return (int(match.group(1)), int(match.group(2)))

    async def erase(self, channels: Sequence[str], scrub: Sequence[str], marker: str) -> None:
        try:
            if channels:
                await self._redis.delete(*(self._prefix + channel for channel in channels))
            for channel in scrub:
                key, start = self._prefix + channel, "-"
                while rows := await self._redis.xrange(key, min=start, count=_ERASE_PAGE):
                    doomed = [
                        _text(entry_id)
                        for entry_id, fields in rows
                        if fields and marker in _text(fields[_key(fields)])
                    ]
                    if doomed:
                        await self._redis.xdel(key, *doomed)
                    if len(rows) < _ERASE_PAGE:
                        break
                    start = "(" + _text(rows[-1][0])
        except (RedisError, OSError) as e:
            raise LogUnavailable(f"cannot erase from the replay log: {e}") from e

    async def aclose(self) -> None:
        if self._owns_client:
            await self._redis.aclose()

    async def _nothing_lost_after(self, key: str, after: str) -> bool:
        """``after`` is not in the stream: only ``LOG_START`` of a never-trimmed stream is fine.

        (Trimming does not update XINFO's max-deleted-entry-id, so a trimmed cursor cannot be
        told apart from a lost one: both expire.)
        """
        if after != LOG_START:
            return False
        try:
            info = await self._redis.xinfo_stream(key)
        except RedisError as e:
            if "no such key" not in str(e).lower():
                raise
            return True  # never written, or expired while idle: nothing to replay either way
        return int(info["entries-added"]) == int(info["length"])


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    raise TypeError(f"unexpected Redis reply {value!r}")


def _key(fields: dict[Any, Any]) -> Any:
    """The payload field, whether the client decodes responses or not."""
    return _FIELD if _FIELD in fields else _FIELD.encode()
