"""The event log on Redis Streams, shared by every process that uses the same Redis.

One stream per channel (``<prefix><channel>``), trimmed with ``XADD ... MAXLEN ~ N`` and expired
when idle. Redis pub/sub loses what it cannot deliver; this log is what lets a subscriber catch
up, so a resume must never replay with holes. What can empty it behind our back:

- a restart without persistence: a random *epoch* (``<prefix>@epoch``, created when absent, in
  the same script as each append) is part of every cursor, so a cursor of the Redis before the
  restart is refused (CursorExpired), even though new ids sort after it;
- trimming and idle expiry: a cursor must still be in the stream to resume from it, and each
  entry records the id before it (``v``), so a cursor of an empty channel (``<epoch>.0.<ms>``,
  from ``tail``) resumes only if the first entry of the stream is its first ever, appended
  less than the idle TTL after the cursor was handed out (else the stream may have expired and
  begun again in between).

Cursors: ``<epoch>.<ms>-<seq>`` (an entry), ``<epoch>.0.<ms>`` (an empty channel at Redis time
``ms``), ``<epoch>.0`` (``prev`` of a stream's first entry). A bare stream id from before epochs
still resumes while it is in the stream; a bare ``0`` proves nothing and expires.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from pipeline.broadcast.errors import CursorExpired, InvalidCursor, LogUnavailable
from pipeline.broadcast.log_base import ERASED, LOG_START, Appended, LogEntry

_CURSOR = re.compile(r"(?:([0-9a-f]{8})\.)?(?:([0-9]{1,15})-([0-9]{1,19})|0(?:\.([0-9]{1,15}))?)")
_FIELD = "p"
_PREV = "v"

# Both scripts start here: the log's epoch, made (from ARGV[1]) by whichever runs first.
_EPOCH = """
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
"""

# KEYS: epoch key, stream. ARGV: a fresh epoch, payload, max length, TTL seconds ('' for none).
_APPEND = (
    _EPOCH
    + """
local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
local prev = '0'
if #newest > 0 then prev = newest[1][1] end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'p', ARGV[2], 'v', prev)
if ARGV[4] ~= '' then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
return {epoch, prev, id}
"""
)

# KEYS: epoch key, stream. ARGV: a fresh epoch. Returns {epoch, newest id or '', Redis ms}.
_TAIL = (
    _EPOCH
    + """
local newest = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #newest > 0 then return {epoch, newest[1][1], 0} end
local t = redis.call('TIME')
return {epoch, '', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)}
"""
)


# KEYS: stream. ARGV: marker, the erased payload. Returns how many entries were redacted.
# A stream entry cannot be edited and XDEL would expire every cursor of it, so a stream with
# hits is rewritten whole, in one script (no append interleaves): the same ids, the same
# chain of predecessors (``v``) and idle TTL, the payloads with the marker replaced. O(max_len),
# once per erased person per shared conversation: a full 5,000-entry stream of 300-byte events
# held Redis 51 ms (loaded 2-core machine).
_REDACT = """
local rows = redis.call('XRANGE', KEYS[1], '-', '+')
local function hit(fields, i)
  return fields[i] == 'p' and string.find(fields[i + 1], ARGV[1], 1, true) ~= nil
end
local hits = 0
for _, row in ipairs(rows) do
  for i = 1, #row[2], 2 do
    if hit(row[2], i) then hits = hits + 1 end
  end
end
if hits == 0 then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
redis.call('DEL', KEYS[1])
for _, row in ipairs(rows) do
  local fields = row[2]
  local args = {}
  for i = 1, #fields, 2 do
    args[#args + 1] = fields[i]
    args[#args + 1] = hit(fields, i) and ARGV[2] or fields[i + 1]
  end
  redis.call('XADD', KEYS[1], row[1], unpack(args))
end
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return hits
"""


@dataclass(frozen=True, slots=True)
class _Cursor:
    epoch: str | None  # None: a bare id from before epochs, or LOG_START
    stream_id: str | None  # an entry; None: a channel's start
    issued_ms: int | None  # for a start handed out by tail()


def _parse(cursor: str) -> _Cursor:
    match = _CURSOR.fullmatch(cursor)
    if match is None:
        raise InvalidCursor(cursor)
    epoch, ms, seq, issued = match.groups()
    stream_id = None if ms is None else f"{int(ms)}-{int(seq)}"
    return _Cursor(epoch, stream_id, None if issued is None else int(issued))


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
        self._epoch_key = key_prefix + "@epoch"  # channels never start with "@"
        self._ttl = idle_ttl_seconds
        self._owns_client = owns_client
        self._append_script = redis.register_script(_APPEND)
        self._tail_script = redis.register_script(_TAIL)
        self._redact_script = redis.register_script(_REDACT)

    @classmethod
    def from_url(cls, url: str, max_len: int = 1000, **options: Any) -> RedisStreamEventLog:
        from pipeline.broadcast.redis_backend import resilient_client_options

        client = Redis.from_url(url, **resilient_client_options(5.0))
        return cls(client, max_len, owns_client=True, **options)

    async def append(self, channel: str, payload: str) -> Appended:
        key = self._prefix + channel
        ttl = "" if self._ttl is None else str(self._ttl)
        try:
            epoch, prev, cursor = await self._append_script(
                keys=[self._epoch_key, key],
                args=[secrets.token_hex(4), payload, self._max_len, ttl],
            )
        except (RedisError, OSError) as e:
            raise LogUnavailable(f"cannot append to {key!r}: {e}") from e
        epoch = _text(epoch)
        return Appended(cursor=f"{epoch}.{_text(cursor)}", prev=f"{epoch}.{_text(prev)}")

    async def read_after(self, channel: str, after: str, limit: int) -> list[LogEntry]:
        position = _parse(after)
        if position.stream_id is None and position.epoch is None:
            raise CursorExpired(channel, after)  # a bare LOG_START: which Redis's start?
        key = self._prefix + channel
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(self._epoch_key)
                if position.stream_id is None:
                    pipe.xrange(key, count=limit)
                    pipe.time()
                else:
                    pipe.xrange(key, min=position.stream_id, max=position.stream_id, count=1)
                    pipe.xrange(key, min="(" + position.stream_id, count=limit)
                epoch, first, second = await pipe.execute()
        except (RedisError, OSError) as e:
            raise LogUnavailable(f"cannot read {key!r}: {e}") from e
        if position.epoch is not None and (epoch is None or _text(epoch) != position.epoch):
            raise CursorExpired(channel, after)  # Redis lost everything since (or never had it)
        if position.stream_id is None:
            rows, now_ms = first, int(second[0]) * 1000 + int(second[1]) // 1000
            if not self._from_start(rows, position.issued_ms, now_ms):
                raise CursorExpired(channel, after)
        else:
            if not first:
                raise CursorExpired(channel, after)  # trimmed, expired, or its channel erased
            rows = second
        qualifier = _text(epoch) + "." if epoch is not None else ""
        return [
            LogEntry(qualifier + _text(entry_id), _text(fields[_key(fields, _FIELD)]))
            for entry_id, fields in rows
        ]

    def _from_start(self, rows: list[Any], issued_ms: int | None, now_ms: int) -> bool:
        """Whether ``rows`` are the stream's first entries ever since a start cursor was issued."""
        if issued_ms is None or self._ttl is None:
            newest_allowed = None
        else:
            newest_allowed = issued_ms + self._ttl * 1000
        if not rows:
            # Nothing now; but a stream begun and expired since would look the same.
            return newest_allowed is None or now_ms < newest_allowed
        entry_id, fields = rows[0]
        prev = fields.get(_key(fields, _PREV))
        if prev is None or _text(prev) != LOG_START:
            return False  # trimmed (or written before entries recorded their predecessor)
        first_ms = int(_text(entry_id).split("-")[0])
        return newest_allowed is None or first_ms < newest_allowed

    async def tail(self, channel: str) -> str:
        try:
            epoch, newest, now_ms = await self._tail_script(
                keys=[self._epoch_key, self._prefix + channel], args=[secrets.token_hex(4)]
            )
        except (RedisError, OSError) as e:
            raise LogUnavailable(f"cannot read {channel!r}: {e}") from e
        newest = _text(newest)
        return f"{_text(epoch)}.{newest}" if newest else f"{_text(epoch)}.0.{int(now_ms)}"

    def cursor_key(self, cursor: str) -> tuple[int, ...]:
        """(ms, seq, epoch): ordered by time across epochs (a restarted Redis issues later ids),
        equal only within one; every start of an epoch is (0, 0, epoch)."""
        position = _parse(cursor)
        epoch = int(position.epoch, 16) if position.epoch else 0
        if position.stream_id is None:
            return (0, 0, epoch)
        ms, seq = position.stream_id.split("-")
        return (int(ms), int(seq), epoch)

    async def erase(self, channels: Sequence[str], scrub: Sequence[str], marker: str) -> None:
        try:
            if channels:
                await self._redis.delete(*(self._prefix + channel for channel in channels))
            for channel in scrub:
                await self._redact_script(keys=[self._prefix + channel], args=[marker, ERASED])
        except (RedisError, OSError) as e:
            raise LogUnavailable(f"cannot erase from the replay log: {e}") from e

    async def aclose(self) -> None:
        if self._owns_client:
            await self._redis.aclose()


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"unexpected Redis reply {value!r}")


def _key(fields: dict[Any, Any], name: str) -> Any:
    """A field's key, whether the client decodes responses or not."""
    return name if name in fields else name.encode()
