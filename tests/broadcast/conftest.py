"""Real Redis and PostgreSQL for the fan-out tests, isolated by key prefix or table name."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from pipeline.broadcast import EventHub, EventLog
from pipeline.broadcast.log_sql import event_log_table

REDIS_URL = "redis://127.0.0.1:6379/0"
POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _redis_reachable() -> bool:
    try:
        with SyncRedis.from_url(REDIS_URL, socket_connect_timeout=0.5) as client:
            return bool(client.ping())
    except (RedisError, OSError):
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not _redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def prefix() -> str:
    """Unique per test: channels and stream keys start with it."""
    return f"t{uuid.uuid4().hex[:12]}:"


@pytest.fixture
async def redis_client(redis_url: str, prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    keys = [key async for key in client.scan_iter(match=f"*{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
async def sqlite_sessionmaker(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'events.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(event_log_table(MetaData()).metadata.create_all)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


@pytest.fixture
async def postgres_log_table() -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], Table]]:
    engine = create_async_engine(POSTGRES_URL)
    table = event_log_table(MetaData(), name=f"event_log_{uuid.uuid4().hex[:10]}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(table.create)
    except OSError as e:
        await engine.dispose()
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {e}")
    yield async_sessionmaker(engine, expire_on_commit=False), table
    async with engine.begin() as conn:
        await conn.run_sync(table.drop)
    await engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A non-persistent redis-server of our own, to kill and restart on the same port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--bind",
                "127.0.0.1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with SyncRedis(port=self.port, socket_connect_timeout=0.2) as client:
                    if client.ping():
                        return
            except (RedisError, OSError):
                time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    server.start()
    yield server
    server.kill()


HubFactory = Callable[..., Awaitable[EventHub]]


@pytest.fixture
async def start_hub() -> AsyncIterator[HubFactory]:
    """Start hubs for a test and stop them all afterwards, even when it fails."""
    hubs: list[EventHub] = []

    async def _start(broadcast: str, log: EventLog, **options: Any) -> EventHub:
        hub = EventHub(broadcast, log, **options)
        await hub.start()
        hubs.append(hub)
        return hub

    yield _start
    for hub in reversed(hubs):
        await hub.stop()
