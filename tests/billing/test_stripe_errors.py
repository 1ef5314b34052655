"""When Stripe fails, callers get the provider error tree: retry what can be retried."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeline.billing.base import InvalidWebhook
from pipeline.billing.stripe_billing import StripeBilling
from pipeline.errors import (
    ProviderAuthError,
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
)
from tests.billing.fake_stripe import (
    API_KEY,
    PRICES,
    WEBHOOK_SECRET,
    FakeStripe,
    event,
    running_fake_stripe,
    sign,
    subscription,
)


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with running_fake_stripe() as server:
        yield server


def billing(fake: FakeStripe, key: str = API_KEY, prices: dict[str, str] = PRICES) -> StripeBilling:
    return StripeBilling(key, WEBHOOK_SECRET, prices, fake.url, max_network_retries=0)


async def checkout(provider: StripeBilling) -> str:
    return await provider.create_checkout(
        "1", "ada@example.com", "pro", "https://a/ok", "https://a/no"
    )


@pytest.mark.parametrize(
    ("status", "expected", "retryable"),
    [
        (500, ProviderUnavailable, True),
        (429, ProviderRateLimited, True),
        (401, ProviderAuthError, False),
    ],
)
async def test_stripe_failures_become_provider_errors(
    fake: FakeStripe, status: int, expected: type[ProviderError], retryable: bool
) -> None:
    provider = billing(fake)
    fake.fail_next = status
    with pytest.raises(expected) as caught:
        await checkout(provider)
    assert caught.value.retryable is retryable
    assert (await checkout(provider)).startswith("https://checkout.stripe.com/")  # recovered
    await provider.aclose()


async def test_a_wrong_key_or_an_unknown_price_is_not_retryable(fake: FakeStripe) -> None:
    wrong_key = billing(fake, key="sk_test_wrong")
    with pytest.raises(ProviderAuthError):
        await checkout(wrong_key)
    stale_price = billing(fake, prices={"pro": "price_deleted"})
    with pytest.raises(ProviderBadResponse) as caught:
        await checkout(stale_price)
    assert "No such price" in caught.value.detail
    unreachable = StripeBilling(
        API_KEY, WEBHOOK_SECRET, PRICES, "http://127.0.0.1:9", max_network_retries=0
    )
    with pytest.raises(ProviderUnavailable):
        await checkout(unreachable)
    for provider in (wrong_key, stale_price, unreachable):
        await provider.aclose()


def test_webhooks_are_translated_after_stripe_verifies_them(fake: FakeStripe) -> None:
    provider = billing(fake)
    payload = event("customer.subscription.updated", subscription(7, "plus", "past_due"), "evt_9")
    parsed = provider.parse_webhook(payload, sign(payload))
    assert (parsed.id, parsed.plan, parsed.status, parsed.user_ref) == (
        "evt_9",
        "plus",
        "past_due",
        "7",
    )
    assert parsed.subscription_ref == "sub_1" and parsed.current_period_end is not None
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(b"not json", sign(b"not json"))
