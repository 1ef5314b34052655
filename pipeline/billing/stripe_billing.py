"""Stripe: hosted Checkout for subscriptions, the Billing Portal, and signed webhooks.

Uses the official SDK (``StripeClient``); ``base_url`` points it at another server (tests run a
local one that speaks Stripe's JSON). Webhooks are verified with Stripe's own signature check.
SDK errors become ``pipeline.errors`` at this edge, so callers never import ``stripe``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import stripe

from pipeline.billing.base import (
    CHECKOUT_COMPLETED,
    PAYMENT_FAILED,
    BillingEvent,
    InvalidWebhook,
)
from pipeline.errors import (
    ProviderAuthError,
    ProviderBadResponse,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
)

NAME = "stripe"


def translate_error(e: stripe.StripeError) -> ProviderError:
    if isinstance(e, stripe.AuthenticationError | stripe.PermissionError):
        return ProviderAuthError(NAME, f"refused the API key ({e.http_status})")
    if isinstance(e, stripe.RateLimitError):
        return ProviderRateLimited(NAME, "rate limited (429)")
    if isinstance(e, stripe.APIConnectionError):
        return ProviderUnavailable(NAME, "cannot reach the API")
    if isinstance(e, stripe.APIError) or (e.http_status or 0) >= 500:
        return ProviderUnavailable(NAME, f"server error ({e.http_status})")
    return ProviderBadResponse(NAME, f"request rejected ({e.http_status}): {e.user_message}")


def _ref(value: Any) -> str | None:
    """An id whether Stripe sent it bare or as an expanded object."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        inner = value.get("id")
        return inner if isinstance(inner, str) else None
    return None


def _time(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else None


class _HTTPXClient(stripe.HTTPXClient):
    """stripe's httpx adapter sends the encoded form as ``data=``, which httpx deprecates."""

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Any, post_data: Any
    ) -> list[Any]:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        body = kwargs.pop("data", None)
        if body:
            kwargs["content"] = body
        return [args, kwargs]


class StripeBilling:
    name = NAME

    def __init__(
        self,
        api_key: str,
        webhook_secret: str,
        price_ids: dict[str, str],
        base_url: str | None = None,
        *,
        timeout_s: float = 20.0,
        max_network_retries: int = 1,
    ) -> None:
        self._http = _HTTPXClient(timeout=timeout_s)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": base_url} if base_url else None,
            http_client=self._http,
            max_network_retries=max_network_retries,
        )
        self._webhook_secret = webhook_secret
        self.price_ids = dict(price_ids)
        self._plans = {price: plan for plan, price in price_ids.items()}

    async def create_checkout(
        self, user_ref: str, email: str, plan: str, success_url: str, cancel_url: str
    ) -> str:
        price = self.price_ids.get(plan)
        if not price:
            raise ProviderBadResponse(NAME, f"no price configured for plan {plan!r}")
        # user_ref and plan ride along in metadata so every later event can be matched.
        metadata = {"user_ref": user_ref, "plan": plan}
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                {
                    "mode": "subscription",
                    "line_items": [{"price": price, "quantity": 1}],
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                    "client_reference_id": user_ref,
                    "customer_email": email,
                    "metadata": metadata,
                    "subscription_data": {"metadata": metadata},
                }
            )
        except stripe.StripeError as e:
            raise translate_error(e) from e
        if not session.url:
            raise ProviderBadResponse(NAME, "checkout session has no url")
        return session.url

    async def create_portal(self, customer_ref: str, return_url: str) -> str:
        try:
            portal = await self._client.v1.billing_portal.sessions.create_async(
                {"customer": customer_ref, "return_url": return_url}
            )
        except stripe.StripeError as e:
            raise translate_error(e) from e
        return portal.url

    def parse_webhook(self, payload: bytes, signature: str | None) -> BillingEvent:
        try:
            self._client.construct_event(payload, signature, self._webhook_secret)
        except stripe.SignatureVerificationError as e:
            raise InvalidWebhook(NAME, "signature does not verify") from e
        except ValueError as e:
            raise InvalidWebhook(NAME, "payload is not an event") from e
        # Verified: read the plain JSON rather than the SDK's dynamic objects.
        return self._translate(json.loads(payload))

    def _translate(self, event: dict[str, Any]) -> BillingEvent:
        kind = str(event.get("type", ""))
        obj: dict[str, Any] = (event.get("data") or {}).get("object") or {}
        metadata: dict[str, Any] = obj.get("metadata") or {}
        base = BillingEvent(id=str(event["id"]), type=kind, customer_ref=_ref(obj.get("customer")))
        if kind == CHECKOUT_COMPLETED:
            paid = obj.get("payment_status") in ("paid", "no_payment_required")
            return replace(
                base,
                subscription_ref=_ref(obj.get("subscription")),
                user_ref=obj.get("client_reference_id") or metadata.get("user_ref"),
                plan=self._known(metadata.get("plan")) if paid else None,
                status="active" if paid else None,
            )
        if kind.startswith("customer.subscription."):
            items = (obj.get("items") or {}).get("data") or [{}]
            price = _ref((items[0] or {}).get("price"))
            return replace(
                base,
                subscription_ref=_ref(obj.get("id")),
                user_ref=metadata.get("user_ref"),
                plan=self._plans.get(price or "") or self._known(metadata.get("plan")),
                status=obj.get("status"),
                # Newer API versions keep the period on each item rather than the subscription.
                current_period_end=_time(obj.get("current_period_end"))
                or _time(items[0].get("current_period_end")),
            )
        if kind == PAYMENT_FAILED:
            details = ((obj.get("parent") or {}).get("subscription_details")) or {}
            return replace(
                base,
                subscription_ref=_ref(obj.get("subscription")) or _ref(details.get("subscription")),
                user_ref=(details.get("metadata") or {}).get("user_ref"),
                status="past_due",
            )
        return base

    def _known(self, plan: Any) -> str | None:
        return plan if isinstance(plan, str) and plan in self.price_ids else None

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]
