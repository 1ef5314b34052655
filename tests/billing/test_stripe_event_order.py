"""Stripe's webhooks arrive late and out of order, and a signed event can still be malformed:
a person's plan only ever moves forward in Stripe's time, and a bad event is refused with 400."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from store.models import ReceivedBillingEvent
from tests.billing.fake_stripe import event, failed_invoice, subscription
from tests.billing.helpers import billing, person
from tests.billing.test_stripe_billing import deliver, settings, stripe_server
from tests.support.graphql import GraphQLClient

__all__ = ["settings", "stripe_server"]  # the Stripe fixtures, shared with that module


async def test_an_older_event_arriving_after_a_newer_one_is_not_applied(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token, user_id = await person(api)
    now = int(time.time())
    sub = subscription(user_id, "pro")
    created = event("customer.subscription.created", sub, created=now - 300)
    failed = event(
        "customer.subscription.updated", subscription(user_id, "pro", "past_due"), created=now - 200
    )
    paid = event("customer.subscription.updated", sub, created=now - 100)
    canceled = event(
        "customer.subscription.deleted", subscription(user_id, "pro", "canceled"), created=now - 150
    )
    late_invoice = event("invoice.payment_failed", failed_invoice(), created=now - 250)
    for payload in (created, paid):
        assert (await deliver(http, payload)).json() == {"received": True, "applied": True}
    # Delivered now, made before the payment went through: none of them may undo it.
    for payload in (failed, canceled, late_invoice):
        response = await deliver(http, payload)
        assert response.status_code == 200
        assert response.json() == {"received": True, "applied": False}
    after = await billing(api, token)
    assert (after["plan"], after["status"], after["graceUntil"]) == ("pro", "active", None)
    # A newer cancel still ends the plan.
    newer = event(
        "customer.subscription.deleted", subscription(user_id, "pro", "canceled"), created=now
    )
    assert (await deliver(http, newer)).json()["applied"] is True
    assert (await billing(api, token))["plan"] == "free"


def _event(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = json.loads(
        event("customer.subscription.updated", subscription(1, "pro"), "evt_base")
    )
    return {**base, **fields}


def _with_object(**fields: Any) -> dict[str, Any]:
    body = _event()
    body["data"]["object"].update(fields)
    return body


MALFORMED: list[tuple[str, Any]] = [
    ("no id", {k: v for k, v in _event().items() if k != "id"}),
    ("id not a string", _event(id=42)),
    ("empty id", _event(id="")),
    ("type not a string", _event(type=["customer.subscription.updated"])),
    ("created not a time", _event(created="yesterday")),
    ("data not an object", _event(data="subscription")),
    ("data.object missing", _event(data={})),
    ("data.object a list", _event(data={"object": []})),
    ("items.data not a list", _with_object(items={"object": "list", "data": {"id": "si_1"}})),
    ("items not an object", _with_object(items="si_1")),
    ("an item not an object", _with_object(items={"data": ["si_1"]})),
    ("status not a string", _with_object(status=5)),
    ("metadata not an object", _with_object(metadata=["user_ref", "1"])),
    ("period end not a time", _with_object(current_period_end=1e300)),
    ("the event a list", [1, 2]),
    ("the event a string", "evt_1"),
]


@pytest.mark.parametrize(("name", "body"), MALFORMED, ids=[m[0] for m in MALFORMED])
async def test_a_signed_but_malformed_event_is_refused_with_400_and_logged(
    api: GraphQLClient,
    http: httpx.AsyncClient,
    app: Any,
    caplog: pytest.LogCaptureFixture,
    name: str,
    body: Any,
) -> None:
    token, _ = await person(api)
    with caplog.at_level(logging.WARNING, logger="holomate.billing"):
        response = await deliver(http, json.dumps(body).encode())
    assert response.status_code == 400, name
    assert response.json()["error"]["code"] == "MALFORMED_EVENT"
    assert any("refused a webhook" in r.getMessage() for r in caplog.records)
    async with app.state.holo.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ReceivedBillingEvent)) == 0
    assert (await billing(api, token))["plan"] == "free"
