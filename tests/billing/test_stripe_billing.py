"""Paying with Stripe: checkout, the portal, and webhooks that move a person between plans.

The Stripe SDK talks to a local server that answers with Stripe's JSON; webhooks are signed
with Stripe's real scheme and verified by the SDK's own check.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from api.settings import Settings
from store.models import ReceivedBillingEvent
from tests.billing.fake_stripe import (
    API_KEY,
    PRICES,
    WEBHOOK_SECRET,
    FakeStripe,
    event,
    failed_invoice,
    running_fake_stripe,
    sign,
    subscription,
)
from tests.billing.helpers import (
    OPEN_PORTAL,
    START_CHECKOUT,
    billing,
    person,
    set_grace_until,
)
from tests.support.graphql import GraphQLClient, create_companion


@pytest.fixture
def stripe_server() -> Iterator[FakeStripe]:
    with running_fake_stripe() as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, stripe_server: FakeStripe) -> Settings:
    return settings.model_copy(
        update={
            "billing_provider": "stripe",
            "stripe_api_key": SecretStr(API_KEY),
            "stripe_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "stripe_base_url": stripe_server.url,
            "stripe_price_plus": PRICES["plus"],
            "stripe_price_pro": PRICES["pro"],
        }
    )


async def deliver(http: httpx.AsyncClient, payload: bytes, signature: str | None = None) -> Any:
    headers = {"content-type": "application/json"}
    headers["stripe-signature"] = sign(payload) if signature is None else signature
    return await http.post("/webhooks/stripe", content=payload, headers=headers)


async def test_checkout_returns_a_stripe_url_for_a_subscription(
    api: GraphQLClient, stripe_server: FakeStripe
) -> None:
    token, user_id = await person(api)
    data = await api.ok(START_CHECKOUT, {"plan": "pro"}, token)
    assert data["startCheckout"]["url"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    path, form = stripe_server.requests[-1]
    assert path == "/v1/checkout/sessions"
    assert form["mode"] == "subscription"
    assert form["line_items[0][price]"] == PRICES["pro"]
    assert form["client_reference_id"] == str(user_id)
    assert form["customer_email"] == "ada@example.com"
    assert form["subscription_data[metadata][user_ref]"] == str(user_id)


async def test_checkout_refuses_free_unknown_and_current_plans(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token, user_id = await person(api)
    for plan in ("free", "gold"):
        error = await api.error(START_CHECKOUT, {"plan": plan}, token)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["field"] == "plan"
    assert (
        await deliver(http, event("customer.subscription.created", subscription(user_id, "plus")))
    ).status_code == 200
    again = await api.error(START_CHECKOUT, {"plan": "plus"}, token)
    assert again["extensions"]["code"] == "CONFLICT"
    switch = await api.error(START_CHECKOUT, {"plan": "pro"}, token)
    assert switch["extensions"] == {"code": "CONFLICT", "reason": "USE_BILLING_PORTAL"}


async def test_a_webhook_with_a_bad_signature_is_refused_and_changes_nothing(
    api: GraphQLClient, http: httpx.AsyncClient, app: Any
) -> None:
    token, user_id = await person(api)
    payload = event("customer.subscription.created", subscription(user_id, "pro"))
    forged = await deliver(http, payload, sign(payload, secret="whsec_someone_else"))
    assert forged.status_code == 400
    assert forged.json()["error"]["code"] == "INVALID_SIGNATURE"
    original = event("customer.subscription.created", subscription(user_id, "plus"))
    tampered = original.replace(PRICES["plus"].encode(), PRICES["pro"].encode())
    assert tampered != original
    altered = await deliver(http, tampered, sign(original))
    assert altered.status_code == 400
    unsigned = await http.post("/webhooks/stripe", content=payload)
    assert unsigned.status_code == 400
    stale = await deliver(
        http, payload, sign(payload, at=int(datetime.now(UTC).timestamp()) - 3600)
    )
    assert stale.status_code == 400
    assert (await billing(api, token))["plan"] == "free"
    async with app.state.holo.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ReceivedBillingEvent)) == 0


async def test_a_new_subscription_moves_the_person_to_pro_with_higher_limits(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token, user_id = await person(api)
    before = await billing(api, token)
    assert before["plan"] == "free" and before["limits"]["companions"] == 3
    response = await deliver(
        http, event("customer.subscription.created", subscription(user_id, "pro"))
    )
    assert response.status_code == 200 and response.json()["applied"] is True
    after = await billing(api, token)
    assert after["plan"] == "pro" and after["status"] == "active"
    assert after["provider"] == "stripe" and after["currentPeriodEnd"] is not None
    assert after["limits"] == {
        "companions": 50,
        "messagesPerDay": 10000,
        "voiceMinutesPerMonth": 3000,
        "devices": 10,
    }


async def test_a_replayed_event_changes_nothing(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token, user_id = await person(api)
    created = event("customer.subscription.created", subscription(user_id, "pro"), "evt_created")
    assert (await deliver(http, created)).status_code == 200
    deleted = event("customer.subscription.deleted", subscription(user_id, "pro", "canceled"))
    assert (await deliver(http, deleted)).status_code == 200
    assert (await billing(api, token))["plan"] == "free"
    replay = await deliver(http, created)  # Stripe retries; an old delivery must not resurrect pro
    assert replay.status_code == 200 and replay.json() == {"received": True, "applied": False}
    assert (await billing(api, token))["plan"] == "free"


async def test_a_failed_payment_keeps_pro_during_the_grace_period_then_reads_as_free(
    api: GraphQLClient, http: httpx.AsyncClient, app: Any
) -> None:
    token, user_id = await person(api)
    await deliver(http, event("customer.subscription.created", subscription(user_id, "pro")))
    for _ in range(3):
        await create_companion(api, token)
    failed = await deliver(http, event("invoice.payment_failed", failed_invoice()))
    assert failed.status_code == 200
    during = await billing(api, token)
    assert during["status"] == "past_due" and during["plan"] == "pro"
    grace_until = datetime.fromisoformat(during["graceUntil"])
    expected = datetime.now(UTC) + timedelta(days=7)
    assert abs((grace_until - expected).total_seconds()) < 60
    await create_companion(api, token, "Fourth")  # still pro: above the free limit is fine
    # Stripe retries the charge and fails again: the grace period does not restart.
    await deliver(http, event("invoice.payment_failed", failed_invoice()))
    assert (await billing(api, token))["graceUntil"] == during["graceUntil"]

    await set_grace_until(app, user_id, datetime.now(UTC) - timedelta(minutes=1))
    after = await billing(api, token)
    assert after["plan"] == "free" and after["status"] == "past_due"
    assert after["limits"]["companions"] == 3
    error = await api.error(*_create("Fifth"), token)
    assert error["extensions"]["code"] == "QUOTA_EXCEEDED"

    paid = subscription(user_id, "pro", status="active")
    await deliver(http, event("customer.subscription.updated", paid))
    recovered = await billing(api, token)
    assert recovered["plan"] == "pro" and recovered["graceUntil"] is None


async def test_a_deleted_subscription_returns_the_person_to_free(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token, user_id = await person(api)
    await deliver(http, event("customer.subscription.created", subscription(user_id, "plus")))
    assert (await billing(api, token))["plan"] == "plus"
    await deliver(
        http, event("customer.subscription.deleted", subscription(user_id, "plus", "canceled"))
    )
    after = await billing(api, token)
    assert after["plan"] == "free" and after["status"] == "canceled"
    assert after["limits"]["companions"] == 3


async def test_the_fourth_companion_on_free_is_refused_until_the_upgrade(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token, user_id = await person(api)
    for name in ("A", "B", "C"):
        await create_companion(api, token, name)
    error = await api.error(*_create("D"), token)
    assert error["extensions"] == {
        "code": "QUOTA_EXCEEDED",
        "limit": "companions",
        "allowed": 3,
    }
    assert (await billing(api, token))["usage"]["companions"] == 3
    await deliver(http, event("customer.subscription.created", subscription(user_id, "plus")))
    created = await create_companion(api, token, "D")
    assert created["name"] == "D"


async def test_the_portal_opens_for_a_paying_customer_only(
    api: GraphQLClient, http: httpx.AsyncClient, stripe_server: FakeStripe
) -> None:
    token, user_id = await person(api)
    none_yet = await api.error(OPEN_PORTAL, token=token)
    assert none_yet["extensions"] == {"code": "CONFLICT", "reason": "NO_BILLING_ACCOUNT"}
    stripe_server.customers.add("cus_ada")
    completed = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "paid",
        "client_reference_id": str(user_id),
        "customer": "cus_ada",
        "subscription": "sub_ada",
        "metadata": {"user_ref": str(user_id), "plan": "pro"},
    }
    await deliver(http, event("checkout.session.completed", completed))
    assert (await billing(api, token))["plan"] == "pro"
    data = await api.ok(OPEN_PORTAL, token=token)
    assert data["openBillingPortal"]["url"].startswith("https://billing.stripe.com/p/session/")
    path, form = stripe_server.requests[-1]
    assert path == "/v1/billing_portal/sessions" and form["customer"] == "cus_ada"


def _create(name: str) -> tuple[str, dict[str, Any]]:
    return (
        "mutation($input: CreateCompanionInput!) { createCompanion(input: $input) { id } }",
        {"input": {"name": name}},
    )


async def test_a_stripe_outage_is_a_retryable_error_the_app_can_show(
    api: GraphQLClient, stripe_server: FakeStripe
) -> None:
    token, _ = await person(api)
    stripe_server.down = True
    error = await api.error(START_CHECKOUT, {"plan": "pro"}, token)
    assert error["extensions"] == {
        "code": "PROVIDER_UNAVAILABLE",
        "provider": "stripe",
        "retryable": True,
    }
    assert "try again" in error["message"]
    stripe_server.down = False  # back: the same request goes through
    data = await api.ok(START_CHECKOUT, {"plan": "pro"}, token)
    assert data["startCheckout"]["url"].startswith("https://checkout.stripe.com/")
