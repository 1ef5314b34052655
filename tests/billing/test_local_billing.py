"""Offline billing for development: the checkout link grants the plan; a forged one does not."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from tests.billing.helpers import OPEN_PORTAL, START_CHECKOUT, billing, person
from tests.support.graphql import GraphQLClient


async def checkout_link(api: GraphQLClient, token: str, plan: str) -> str:
    data = await api.ok(START_CHECKOUT, {"plan": plan}, token)
    url: str = data["startCheckout"]["url"]
    return url


async def test_opening_the_local_checkout_link_grants_the_plan_once(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token, _ = await person(api)
    link = await checkout_link(api, token, "plus")
    assert urlsplit(link).path == "/billing/local/checkout"
    opened = await http.get(link)
    assert opened.status_code == 303
    assert opened.headers["location"] == "http://localhost:3000/billing?checkout=success"
    granted = await billing(api, token)
    assert granted["plan"] == "plus" and granted["provider"] == "local"
    assert granted["limits"]["companions"] == 10
    assert (await http.get(link)).status_code == 303  # opened twice: nothing more happens
    assert (await billing(api, token))["plan"] == "plus"
    again = await api.error(START_CHECKOUT, {"plan": "plus"}, token)
    assert again["extensions"] == {"code": "CONFLICT", "reason": "ALREADY_ON_PLAN"}
    portal = await api.ok(OPEN_PORTAL, token=token)  # nothing to manage offline: back home
    assert portal["openBillingPortal"]["url"] == "http://localhost:3000/billing"


async def test_a_forged_local_checkout_link_is_refused(
    api: GraphQLClient, http: httpx.AsyncClient
) -> None:
    token, user_id = await person(api)
    other_token, other_id = await person(api, "eve@example.com")
    link = urlsplit(await checkout_link(api, other_token, "plus"))
    fields = dict(parse_qsl(link.query))
    sig = fields.pop("sig")
    forgeries = [
        {**fields, "plan": "pro"},  # a better plan than was paid for
        {**fields, "user": str(user_id)},  # someone else's link, aimed at another account
        {**fields, "exp": str(int(fields["exp"]) + 10**6)},  # kept alive past its expiry
    ]
    for forged in forgeries:
        response = await http.get(f"{link.path}?{urlencode(forged)}&sig={sig}")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
    unsigned = await http.get(f"{link.path}?{urlencode(fields)}")
    assert unsigned.status_code == 400
    assert (await billing(api, token))["plan"] == "free"
    assert (await billing(api, other_token))["plan"] == "free"
    assert other_id != user_id


async def test_the_stripe_webhook_is_off_when_billing_is_local(http: httpx.AsyncClient) -> None:
    response = await http.post("/webhooks/stripe", content=b"{}", headers={"stripe-signature": "x"})
    assert response.status_code == 404
