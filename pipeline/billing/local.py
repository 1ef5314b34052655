"""OFFLINE DEVELOPMENT BILLING: no money moves; opening the checkout link grants the plan.

For development and tests without a payment provider. The link is signed with the app secret
and expires, so nobody grants themselves a plan by editing it; still, anyone signed in can
"buy" any plan for free, which is why the app refuses this provider in production.

The link's query string is the "webhook": ``parse_webhook(query, sig)`` verifies it like a
provider's event and yields a ``checkout.session.completed`` whose id is derived from the
signature, so opening the same link twice changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qsl, urlencode

from pipeline.billing.base import CHECKOUT_COMPLETED, BillingEvent, InvalidWebhook

CHECKOUT_PATH = "/billing/local/checkout"
_DOMAIN = b"holomate-local-billing-v1"  # a key of its own: app tokens never verify here


class LocalBilling:
    name = "local"

    def __init__(self, secret: str, base_url: str = "", link_ttl_s: int = 3600) -> None:
        self._key = hmac.new(secret.encode(), _DOMAIN, hashlib.sha256).digest()
        self.base_url = base_url.rstrip("/")
        self.link_ttl_s = link_ttl_s

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()

    async def create_checkout(
        self, user_ref: str, email: str, plan: str, success_url: str, cancel_url: str
    ) -> str:
        query = urlencode(
            {
                "user": user_ref,
                "plan": plan,
                "exp": str(int(time.time()) + self.link_ttl_s),
                "next": success_url,
            }
        )
        return f"{self.base_url}{CHECKOUT_PATH}?{query}&sig={self._sign(query.encode())}"

    async def create_portal(self, customer_ref: str, return_url: str) -> str:
        # Nothing to manage offline: a new plan is one more checkout link away.
        return return_url

    def parse_webhook(self, payload: bytes, signature: str | None) -> BillingEvent:
        if not signature or not hmac.compare_digest(self._sign(payload), signature):
            raise InvalidWebhook(self.name, "checkout link signature does not verify")
        fields = dict(parse_qsl(payload.decode(), keep_blank_values=True))
        try:
            expires = int(fields["exp"])
            user_ref, plan = fields["user"], fields["plan"]
        except (KeyError, ValueError) as e:
            raise InvalidWebhook(self.name, "checkout link is incomplete") from e
        if expires < time.time():
            raise InvalidWebhook(self.name, "checkout link has expired")
        return BillingEvent(
            id=f"local_{signature[:40]}",
            type=CHECKOUT_COMPLETED,
            customer_ref=f"local_{user_ref}",
            subscription_ref=f"local_sub_{user_ref}",
            plan=plan,
            status="active",
            user_ref=user_ref,
        )

    @staticmethod
    def next_url(payload: bytes) -> str:
        """Where to send the browser once the plan is granted (the checkout's success URL)."""
        return dict(parse_qsl(payload.decode())).get("next", "/")

    async def aclose(self) -> None:
        return None
