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
    MalformedWebhook,
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
    return datetime.fromtimestamp(value, UTC) if _is_int(value) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**40


def _malformed(where: str, expected: str) -> MalformedWebhook:
    return MalformedWebhook(NAME, f"{where} is not {expected}")


def _object(value: Any, where: str, *, optional: bool = False) -> dict[str, Any]:
    """A JSON object Stripe always sends as one (or may leave out, when ``optional``)."""
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise _malformed(where, "an object")
    return value


def _text(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _malformed(where, "a string")
    return value


def _when(value: Any, where: str) -> datetime | None:
    if value is not None and not _is_int(value):
        raise _malformed(where, "a Unix time")
    return _time(value)


def _items(obj: dict[str, Any]) -> list[dict[str, Any]]:
    items = _object(obj.get("items"), "data.object.items", optional=True).get("data", [])
    if not isinstance(items, list):
        raise _malformed("data.object.items.data", "a list")
    for n, item in enumerate(items):
        _object(item, f"data.object.items.data[{n}]")
    return items


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
        except (ValueError, TypeError, AttributeError, RecursionError) as e:
            # Raised after the signature verified (the SDK reads the JSON second).
            raise MalformedWebhook(NAME, "payload is not an event") from e
        # Verified: read the plain JSON rather than the SDK's dynamic objects, checking each
        # field we use, so a malformed event is refused (400) rather than half applied.
        return self._translate(_object(json.loads(payload), "the event"))

    def _translate(self, event: dict[str, Any]) -> BillingEvent:
        event_id, kind = event.get("id"), event.get("type")
        if not isinstance(event_id, str) or not event_id:
            raise _malformed("id", "a string")
        if not isinstance(kind, str) or not kind:
            raise _malformed("type", "a string")
        created = _when(event.get("created"), "created")
        if created is None:
            raise _malformed("created", "a Unix time")
        obj = _object(_object(event.get("data"), "data").get("object"), "data.object")
        metadata = _object(obj.get("metadata"), "data.object.metadata", optional=True)
        base = BillingEvent(
            id=event_id, type=kind, customer_ref=_ref(obj.get("customer")), created=created
        )
        if kind == CHECKOUT_COMPLETED:
            paid = obj.get("payment_status") in ("paid", "no_payment_required")
            return replace(
                base,
                subscription_ref=_ref(obj.get("subscription")),
                user_ref=_text(obj.get("client_reference_id"), "data.object.client_reference_id")
                or _text(metadata.get("user_ref"), "data.object.metadata.user_ref"),
                plan=self._known(metadata.get("plan")) if paid else None,
                status="active" if paid else None,
            )
        if kind.startswith("customer.subscription."):
            items = _items(obj) or [{}]
            price = _ref(items[0].get("price"))
            return replace(
                base,
                subscription_ref=_text(obj.get("id"), "data.object.id"),
                user_ref=_text(metadata.get("user_ref"), "data.object.metadata.user_ref"),
                plan=self._plans.get(price or "") or self._known(metadata.get("plan")),
                status=_text(obj.get("status"), "data.object.status"),
                # Newer API versions keep the period on each item rather than the subscription.
                current_period_end=_when(
                    obj.get("current_period_end"), "data.object.current_period_end"
                )
                or _when(items[0].get("current_period_end"), "data.object.items.data[0]"),
            )
        if kind == PAYMENT_FAILED:
            parent = _object(obj.get("parent"), "data.object.parent", optional=True)
            details = _object(
                parent.get("subscription_details"), "data.object.parent", optional=True
            )
            meta = _object(details.get("metadata"), "data.object.parent", optional=True)
            return replace(
                base,
                subscription_ref=_ref(obj.get("subscription")) or _ref(details.get("subscription")),
                user_ref=_text(meta.get("user_ref"), "data.object.parent"),
                status="past_due",
            )
        return base

    def _known(self, plan: Any) -> str | None:
        return plan if isinstance(plan, str) and plan in self.price_ids else None

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]
