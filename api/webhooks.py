"""Billing over plain HTTP: Stripe's webhook, the offline checkout link, and the provider factory.

Webhook answers follow what Stripe retries on: 200 for every verified event (also replays,
events we ignore and events older than one already applied), 400 with a JSON error code, logged,
when the signature does not verify (``INVALID_SIGNATURE``) or a signed event is malformed
(``MALFORMED_EVENT``: a field missing or of the wrong type; retrying would not help).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from api.settings import Settings
from pipeline.billing.base import BillingProvider, InvalidWebhook
from pipeline.billing.local import CHECKOUT_PATH, LocalBilling
from pipeline.billing.stripe_billing import StripeBilling
from services.billing import Billing

log = logging.getLogger("holomate.billing")

LOCAL_CHECKOUT_PATH = CHECKOUT_PATH


def build_billing(settings: Settings) -> Billing:
    provider: BillingProvider
    if settings.billing_provider == "stripe":
        required = {
            "HOLOMATE_STRIPE_API_KEY": settings.stripe_api_key.get_secret_value(),
            "HOLOMATE_STRIPE_WEBHOOK_SECRET": settings.stripe_webhook_secret.get_secret_value(),
            "HOLOMATE_STRIPE_PRICE_PLUS": settings.stripe_price_plus,
            "HOLOMATE_STRIPE_PRICE_PRO": settings.stripe_price_pro,
        }
        missing = [name for name, value in required.items() if not value]
        if missing:
            raise ValueError(f"billing_provider=stripe needs {', '.join(missing)}")
        provider = StripeBilling(
            settings.stripe_api_key.get_secret_value(),
            settings.stripe_webhook_secret.get_secret_value(),
            {"plus": settings.stripe_price_plus, "pro": settings.stripe_price_pro},
            base_url=settings.stripe_base_url or None,
        )
    else:
        if settings.env == "production":
            raise ValueError(
                "HOLOMATE_BILLING_PROVIDER=local grants paid plans for free; use stripe in "
                "production"
            )
        provider = LocalBilling(
            settings.secret_key.get_secret_value(), base_url=settings.public_base_url
        )
    return Billing(
        provider=provider,
        grace=timedelta(days=settings.billing_grace_days),
        return_url=settings.billing_return_url,
    )


def _error(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _billing(request: Request) -> Billing | None:
    billing: Billing | None = request.app.state.holo.billing
    return billing


async def stripe_webhook(request: Request) -> Response:
    billing = _billing(request)
    if billing is None or billing.provider.name != "stripe":
        return _error("NOT_FOUND", "Stripe billing is not enabled", 404)
    payload = await request.body()
    try:
        event = billing.provider.parse_webhook(payload, request.headers.get("stripe-signature"))
    except InvalidWebhook as e:
        log.warning("refused a webhook: %s", e.detail)
        return _error(e.code, e.detail, 400)
    async with request.app.state.holo.sessionmaker() as session:
        applied = await billing.apply_event(session, event)
    return JSONResponse({"received": True, "applied": applied})


async def local_checkout(request: Request) -> Response:
    """Opening the offline checkout link grants its plan; a forged or stale link grants nothing."""
    billing = _billing(request)
    if billing is None or not isinstance(billing.provider, LocalBilling):
        return _error("NOT_FOUND", "Local billing is not enabled", 404)
    payload, found, signature = request.url.query.rpartition("&sig=")
    try:
        if not found:
            raise InvalidWebhook(billing.provider.name, "checkout link is not signed")
        event = billing.provider.parse_webhook(payload.encode(), signature)
    except InvalidWebhook as e:
        return _error(e.code, e.detail, 400)
    async with request.app.state.holo.sessionmaker() as session:
        await billing.apply_event(session, event)
    return RedirectResponse(LocalBilling.next_url(payload.encode()), status_code=303)
