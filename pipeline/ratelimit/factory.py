"""Pick the rate limiter for a shared-state URL: ``redis://`` is shared, anything else is local."""

from __future__ import annotations

from pipeline.ratelimit.base import RateLimiter
from pipeline.ratelimit.limits_backend import LimitsRateLimiter


def make_rate_limiter(url: str, namespace: str = "") -> RateLimiter:
    return LimitsRateLimiter(url, namespace)
