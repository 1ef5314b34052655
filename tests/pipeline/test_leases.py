"""Counted leases keep the same promises in memory and in Redis: at most ``limit`` holders, a
place freed at once by its release, and one a dead process never released freed by expiry."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from pipeline.leases.base import Leases
from pipeline.leases.memory import MemoryLeases

pytestmark = pytest.mark.one_backend  # the engines under test are these stores, not the run's
REDIS = os.environ.get("HOLOMATE_TEST_BROADCAST_URL", "redis://127.0.0.1:6379/0")
TTL_S = 0.4


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def leases(request: pytest.FixtureRequest) -> AsyncIterator[Leases]:
    if request.param == "memory":
        store: Leases = MemoryLeases()
    else:
        from pipeline.leases.redis_store import RedisLeases

        store = RedisLeases.from_url(REDIS, f"t{uuid.uuid4().hex[:12]}:")
    yield store
    await store.aclose()


async def test_a_pool_holds_at_most_its_limit_and_a_release_frees_a_place(leases: Leases) -> None:
    assert await leases.acquire("voice:1", "a", 2, 30)
    assert await leases.acquire("voice:1", "b", 2, 30)
    assert not await leases.acquire("voice:1", "c", 2, 30)
    assert await leases.acquire("voice:1", "a", 2, 30)  # a holder's own place, again
    assert await leases.acquire("voice:2", "c", 2, 30)  # pools are apart
    await leases.release("voice:1", "a")
    assert await leases.acquire("voice:1", "c", 2, 30)


async def test_a_lease_not_renewed_expires_and_a_renewed_one_holds(leases: Leases) -> None:
    assert await leases.acquire("voice:1", "alive", 2, TTL_S)
    assert await leases.acquire("voice:1", "dead", 2, TTL_S)  # its process was killed
    for _ in range(3):
        await asyncio.sleep(TTL_S / 2)
        await leases.renew([("voice:1", "alive"), ("voice:1", "gone")], TTL_S)
    assert await leases.acquire("voice:1", "new", 2, TTL_S)  # the dead one's place
    assert not await leases.acquire("voice:1", "another", 2, TTL_S)  # alive still counts
