"""Every EventLog keeps the same promises: ordered, exclusive reads, honest expiry, and a resume
that never replays with holes (what the log cannot prove it still has, it answers CursorExpired)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from pipeline.broadcast import (
    ERASED,
    LOG_START,
    CursorExpired,
    EventLog,
    InvalidCursor,
    LogEntry,
    MemoryEventLog,
)
from pipeline.broadcast.log_redis import RedisStreamEventLog
from pipeline.broadcast.log_sql import SqlEventLog
from pipeline.broadcast.log_sqlite import SqliteEventLog

MAX_LEN = 5


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        "sqlite",
        "sqlite-file",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def log(request: pytest.FixtureRequest, prefix: str) -> Iterator[EventLog]:
    kind = request.param
    if kind == "memory":
        yield MemoryEventLog(MAX_LEN)
    elif kind == "redis":
        client: Redis = request.getfixturevalue("redis_client")
        yield RedisStreamEventLog(client, MAX_LEN, key_prefix=prefix)
    elif kind == "sqlite":
        maker: async_sessionmaker[AsyncSession] = request.getfixturevalue("sqlite_sessionmaker")
        yield SqlEventLog(maker, MAX_LEN, prune_every=1)
    elif kind == "sqlite-file":
        tmp_path: Path = request.getfixturevalue("tmp_path")
        own_file = SqliteEventLog(str(tmp_path / "events.db"), MAX_LEN, prune_every=1)
        yield own_file
        own_file.close()
    else:
        pg: tuple[async_sessionmaker[AsyncSession], Table] = request.getfixturevalue(
            "postgres_log_table"
        )
        yield SqlEventLog(pg[0], MAX_LEN, table=pg[1], prune_every=1)


async def test_appends_chain_each_entry_to_the_one_before(log: EventLog) -> None:
    start = await log.tail("conversation:1")
    first = await log.append("conversation:1", "a")
    second = await log.append("conversation:1", "b")
    other = await log.append("conversation:2", "x")

    # A channel's first entry follows its start (the cursor tail() gives for it while empty).
    assert log.cursor_key(first.prev) == log.cursor_key(start)
    assert second.prev == first.cursor
    assert log.cursor_key(other.prev) == log.cursor_key(start)
    assert log.cursor_key(start) < log.cursor_key(first.cursor) < log.cursor_key(second.cursor)
    assert await log.tail("conversation:1") == second.cursor
    assert await log.read_after("conversation:3", await log.tail("conversation:3"), 10) == []


async def test_read_after_is_exclusive_ordered_and_paged(log: EventLog) -> None:
    start = await log.tail("conversation:1")
    cursors = [(await log.append("conversation:1", p)).cursor for p in "abcd"]
    await log.append("conversation:2", "other channel")

    everything = await log.read_after("conversation:1", start, 100)
    assert [e.payload for e in await log.read_after("conversation:1", start, 2)] == ["a", "b"]
    assert [e.payload for e in everything] == ["a", "b", "c", "d"]
    assert [e.cursor for e in everything] == cursors
    after_b = await log.read_after("conversation:1", cursors[1], 1)
    assert [e.payload for e in after_b] == ["c"]
    assert await log.read_after("conversation:1", cursors[3], 100) == []
    assert await log.read_after("conversation:9", await log.tail("conversation:9"), 100) == []


async def test_a_trimmed_cursor_expires_but_retained_ones_still_resume(log: EventLog) -> None:
    # Redis trims with MAXLEN ~ (whole 100-entry nodes), so append well past max_len.
    start = await log.tail("conversation:1")
    cursors = [(await log.append("conversation:1", str(i))).cursor for i in range(300)]

    with pytest.raises(CursorExpired) as caught:
        await log.read_after("conversation:1", cursors[0], 10)
    assert caught.value.channel == "conversation:1"
    with pytest.raises(CursorExpired):  # from before the first entry: the first ones are gone
        await log.read_after("conversation:1", start, 10)
    tail = await log.read_after("conversation:1", cursors[-3], 10)
    assert [e.payload for e in tail] == ["298", "299"]


async def test_garbage_and_unknown_cursors_are_refused(log: EventLog) -> None:
    await log.append("conversation:1", "a")
    with pytest.raises(InvalidCursor):
        log.cursor_key("not a cursor")
    with pytest.raises(InvalidCursor):
        await log.read_after("conversation:1", "1 2", 10)
    # A cursor past the channel's tail (a log that lost entries, e.g. a Redis restart)
    # cannot prove nothing was missed.
    ahead = [(await log.append("conversation:2", "b")).cursor for _ in range(3)][-1]
    with pytest.raises(CursorExpired):
        await log.read_after("conversation:1", ahead, 10)


async def test_erasing_a_person_leaves_none_of_their_words_readable(log: EventLog) -> None:
    await log.append("conversation:1", "her own diary")
    marker = '"author_id":7,'
    shared = [
        '{"author_id":8,"text":"his"}',
        '{"author_id":7,"text":"hers"}',
        '{"author_id":7,"text":"hers again"}',
        '{"author_id":8,"text":"his reply"}',
    ]
    start = await log.tail("conversation:2")
    cursors = [(await log.append("conversation:2", p)).cursor for p in shared]
    elsewhere = await log.append("conversation:3", '{"author_id":7,"text":"not listed"}')

    await log.erase(["conversation:1"], ["conversation:2"], marker)

    assert await log.read_after("conversation:1", await log.tail("conversation:1"), 10) == []
    # Her entries are redacted in place: from every cursor, hers included (a live client's
    # last one), the log reads on in order, with nothing of hers and nothing of his missing.
    for i, cursor in enumerate([start, *cursors]):
        readable = await log.read_after("conversation:2", cursor, 10)
        assert [e.cursor for e in readable] == cursors[i:]
        assert [e.payload for e in readable] == [ERASED if marker in p else p for p in shared[i:]]
    # Only the listed channels change, and the scrubbed one goes on from its tail.
    assert await log.read_after("conversation:3", elsewhere.prev, 10) == [
        LogEntry(elsewhere.cursor, '{"author_id":7,"text":"not listed"}')
    ]
    newest = await log.append("conversation:2", '{"author_id":8,"text":"later"}')
    assert newest.prev == cursors[-1]
    after_tail = await log.read_after("conversation:2", cursors[2], 10)
    assert [e.cursor for e in after_tail] == [cursors[3], newest.cursor]


@pytest.mark.redis
async def test_redis_stream_stays_near_max_len(redis_client: Redis, prefix: str) -> None:
    log = RedisStreamEventLog(redis_client, 50, key_prefix=prefix)
    for i in range(1000):
        await log.append("conversation:1", str(i))
    length = await redis_client.xlen(f"{prefix}conversation:1")
    assert 50 <= length <= 150  # approximate trimming works in 100-entry nodes
    assert await redis_client.ttl(f"{prefix}conversation:1") > 0


async def test_memory_log_forgets_a_previous_process(prefix: str) -> None:
    before_restart = MemoryEventLog(10)
    cursor = (await before_restart.append("conversation:1", "a")).cursor
    after_restart = MemoryEventLog(10)
    await after_restart.append("conversation:1", "b")
    with pytest.raises(CursorExpired):
        await after_restart.read_after("conversation:1", cursor, 10)


async def test_sql_prune_all_trims_quiet_channels(
    sqlite_sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    log = SqlEventLog(sqlite_sessionmaker, 3, prune_every=1000)
    cursors = [(await log.append("conversation:1", str(i))).cursor for i in range(10)]
    deleted = await log.prune_all()
    assert deleted == 7  # only the first append pruned (nothing), prune_every is 1000
    with pytest.raises(CursorExpired):
        await log.read_after("conversation:1", cursors[6], 100)
    with pytest.raises(CursorExpired):
        await log.read_after("conversation:1", LOG_START, 100)
    kept = await log.read_after("conversation:1", cursors[7], 100)
    assert [e.payload for e in kept] == ["8", "9"]


# -- continuity: a log that lost entries says so ------------------------------------------------


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def restartable(request: pytest.FixtureRequest, prefix: str) -> Restartable:
    """A log and a way to lose everything it held, as a process restart does to memory and a
    restart without persistence does to Redis. (SQL is the durable one: nothing to lose.)"""
    if request.param == "memory":
        return Restartable(MemoryEventLog(MAX_LEN))
    client: Redis = request.getfixturevalue("redis_client")
    return Restartable(RedisStreamEventLog(client, MAX_LEN, key_prefix=prefix), client, prefix)


class Restartable:
    def __init__(self, log: EventLog, redis: Redis | None = None, prefix: str = "") -> None:
        self.log = log
        self._redis = redis
        self._prefix = prefix

    async def lose_everything(self) -> None:
        if self._redis is None:
            self.log = MemoryEventLog(MAX_LEN)
            return
        keys = [key async for key in self._redis.scan_iter(match=f"{self._prefix}*")]
        assert keys
        await self._redis.delete(*keys)


async def test_no_cursor_from_before_a_log_came_back_empty_resumes(
    restartable: Restartable,
) -> None:
    # The fault: new entries get fresh ids that sort after the client's cursors.
    start = await restartable.log.tail("conversation:1")
    cursors = [(await restartable.log.append("conversation:1", str(i))).cursor for i in range(3)]
    await restartable.lose_everything()
    log = restartable.log
    later = [(await log.append("conversation:1", f"new {i}")).cursor for i in range(2)]
    assert log.cursor_key(later[0]) > log.cursor_key(cursors[-1]) or isinstance(log, MemoryEventLog)

    for cursor in [start, *cursors, LOG_START]:
        with pytest.raises(CursorExpired):
            await log.read_after("conversation:1", cursor, 10)
    # A client that reloads resumes from what the log hands out now.
    assert [e.payload for e in await log.read_after("conversation:1", later[0], 10)] == ["new 1"]


async def test_an_empty_channels_cursor_from_before_the_log_came_back_empty_expires(
    restartable: Restartable,
) -> None:
    start = await restartable.log.tail("conversation:1")
    await restartable.log.append("conversation:2", "elsewhere")
    await restartable.lose_everything()
    with pytest.raises(CursorExpired):
        await restartable.log.read_after("conversation:1", start, 10)


@pytest.mark.redis
async def test_redis_empty_channel_cursor_older_than_the_idle_ttl_expires(
    redis_client: Redis, prefix: str
) -> None:
    # The stream may have been written, expired while idle and begun again since then.
    log = RedisStreamEventLog(redis_client, MAX_LEN, key_prefix=prefix, idle_ttl_seconds=60)
    start = await log.tail("conversation:1")
    epoch, _, issued = start.split(".")
    long_ago = f"{epoch}.0.{int(issued) - 61_000}"
    assert await log.read_after("conversation:1", start, 10) == []
    with pytest.raises(CursorExpired):
        await log.read_after("conversation:1", long_ago, 10)

    first = await log.append("conversation:1", "a")
    assert [e.cursor for e in await log.read_after("conversation:1", start, 10)] == [first.cursor]
    with pytest.raises(CursorExpired):
        await log.read_after("conversation:1", long_ago, 10)


@pytest.mark.redis
async def test_redis_cursors_from_before_epochs_resume_while_kept(
    redis_client: Redis, prefix: str
) -> None:
    # Cursors clients held before this version (bare stream ids) still work within one Redis.
    log = RedisStreamEventLog(redis_client, MAX_LEN, key_prefix=prefix)
    cursors = [(await log.append("conversation:1", p)).cursor for p in "ab"]
    bare = cursors[0].split(".", 1)[1]
    assert [e.cursor for e in await log.read_after("conversation:1", bare, 10)] == cursors[1:]
