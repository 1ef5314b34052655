"""The billing provider interface: hosted checkout, a self-service portal, signed events.

A provider never touches the database. It turns a plan into a URL to pay at, and a signed
webhook into a small frozen ``BillingEvent``; ``services.billing`` decides what it means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pipeline.errors import ProviderBadResponse

CHECKOUT_COMPLETED = "checkout.session.completed"
SUBSCRIPTION_CREATED = "customer.subscription.created"
SUBSCRIPTION_UPDATED = "customer.subscription.updated"
SUBSCRIPTION_DELETED = "customer.subscription.deleted"
PAYMENT_FAILED = "invoice.payment_failed"


@dataclass(frozen=True, slots=True)
class BillingEvent:
    """What one provider event says, in our words; ``id`` makes replays recognisable."""

    id: str
    type: str
    customer_ref: str | None = None
    subscription_ref: str | None = None
    plan: str | None = None
    status: str | None = None
    current_period_end: datetime | None = None
    user_ref: str | None = None
    # When the provider made the event: it may arrive after a newer one (retries, no ordering).
    created: datetime | None = None


class InvalidWebhook(ProviderBadResponse):
    """The payload's signature does not verify (forged, altered, stale or wrong secret)."""

    code = "INVALID_SIGNATURE"


class MalformedWebhook(InvalidWebhook):
    """Signed, yet not an event we can read (a field missing or of the wrong type)."""

    code = "MALFORMED_EVENT"


class BillingProvider(Protocol):
    name: str

    async def create_checkout(
        self, user_ref: str, email: str, plan: str, success_url: str, cancel_url: str
    ) -> str:
        """The URL of a page where this person subscribes to ``plan``."""
        ...

    async def create_portal(self, customer_ref: str, return_url: str) -> str:
        """The URL of a page where a paying customer manages or cancels their subscription."""
        ...

    def parse_webhook(self, payload: bytes, signature: str | None) -> BillingEvent:
        """Verify and translate one event; raises ``InvalidWebhook`` when it does not verify."""
        ...

    async def aclose(self) -> None: ...
