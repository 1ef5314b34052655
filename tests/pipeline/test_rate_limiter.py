"""The rate limiter's contract, on this process's memory and on Redis alike."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import pytest

from pipeline.ratelimit.base import RateLimiter
from pipeline.ratelimit.factory import make_rate_limiter
from tests.support.limits import redis_url_or_none
from tests.support.server import free_port


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    url = "memory://"
    if request.param == "redis":
        url = redis_url_or_none() or ""
        if not url:
            pytest.skip("Redis is not reachable")
    made = make_rate_limiter(url, namespace=f"t{uuid.uuid4().hex[:12]}:")
    yield made
    await made.aclose()


async def test_hits_spend_the_budget_then_say_when_to_come_back(limiter: RateLimiter) -> None:
    verdicts = [await limiter.hit("3/minute", "ip", "a") for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert 1 <= verdicts[-1].retry_after_s <= 60
    assert (await limiter.hit("3/minute", "ip", "b")).allowed  # another key, its own budget
    assert (await limiter.hit("", "ip", "a")).allowed  # an empty rate limits nothing


async def test_every_rate_of_a_list_is_enforced(limiter: RateLimiter) -> None:
    assert [(await limiter.hit("2/minute;3/hour", "k")).allowed for _ in range(2)] == [True] * 2
    refused = await limiter.hit("2/minute;3/hour", "k")
    assert not refused.allowed and refused.retry_after_s <= 60
    # The hour's budget keeps counting what the minute's allowed.
    assert (await limiter.hit("100/minute;3/hour", "k")).allowed
    hourly = await limiter.hit("100/minute;3/hour", "k")
    assert not hourly.allowed and hourly.retry_after_s >= 1


async def test_peek_tells_without_spending(limiter: RateLimiter) -> None:
    for _ in range(5):
        assert (await limiter.peek("2/minute", "fail", "x")).allowed
    await limiter.hit("2/minute", "fail", "x")
    await limiter.hit("2/minute", "fail", "x")
    refused = await limiter.peek("2/minute", "fail", "x")
    assert not refused.allowed and refused.retry_after_s >= 1


async def test_a_remembered_key_is_recalled_until_it_expires(limiter: RateLimiter) -> None:
    assert not await limiter.recalls("known", "acct", "1.2.3.4")
    await limiter.remember(3600, "known", "acct", "1.2.3.4")
    assert await limiter.recalls("known", "acct", "1.2.3.4")
    assert not await limiter.recalls("known", "acct", "5.6.7.8")


async def test_an_unreachable_redis_lets_everything_through_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = make_rate_limiter(f"redis://127.0.0.1:{free_port()}/0")
    with caplog.at_level(logging.WARNING, logger="holomate.ratelimit"):
        assert all([(await limiter.hit("1/hour", "ip", "a")).allowed for _ in range(3)])
        assert (await limiter.peek("1/hour", "ip", "a")).allowed
        assert not await limiter.recalls("known", "a")
    assert caplog.text.count("rate limits not enforced") == 1  # one warning, not one per request
    await limiter.aclose()
