"""A local server that answers like Stripe's API, and webhooks signed like Stripe signs them.

Only what the product calls: Checkout Sessions and Billing Portal sessions, with Stripe's JSON
objects and its ``{"error": {...}}`` bodies. ``fail_next`` makes the next call fail with a
given status, as Stripe does when it is down, rate limiting, or refusing the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

API_KEY = "sk_test_holomate"
WEBHOOK_SECRET = "whsec_test_holomate"
PRICES = {"plus": "price_plus_monthly", "pro": "price_pro_monthly"}

_ERRORS = {
    401: ("invalid_request_error", "Invalid API Key provided: sk_test_****", None),
    429: ("invalid_request_error", "Too many requests hit the API too quickly.", "rate_limit"),
    500: ("api_error", "An unknown error occurred", None),
}


@dataclass
class FakeStripe:
    url: str = ""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    customers: set[str] = field(default_factory=set)
    fail_next: int | None = None
    down: bool = False  # every call answers 500, as during an outage (the SDK's retry too)

    def answer(self, path: str, auth: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.requests.append((path, form))
        if self.fail_next is not None or self.down:
            status, self.fail_next = self.fail_next or 500, None
            kind, message, code = _ERRORS[status]
            return status, _error(kind, message, code)
        if auth != f"Bearer {API_KEY}":
            return 401, _error(*_ERRORS[401])
        if path == "/v1/checkout/sessions":
            return self._checkout(form)
        if path == "/v1/billing_portal/sessions":
            return self._portal(form)
        return 404, _error("invalid_request_error", f"Unrecognized request URL (POST: {path})")

    def _checkout(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        price = form.get("line_items[0][price]", "")
        if price not in PRICES.values():
            return 400, _error(
                "invalid_request_error",
                f"No such price: '{price}'",
                "resource_missing",
                param="line_items[0][price]",
            )
        sid = "cs_test_" + secrets.token_hex(12)
        return 200, {
            "id": sid,
            "object": "checkout.session",
            "mode": form.get("mode"),
            "status": "open",
            "payment_status": "unpaid",
            "client_reference_id": form.get("client_reference_id"),
            "customer": None,
            "customer_email": form.get("customer_email"),
            "subscription": None,
            "success_url": form.get("success_url"),
            "cancel_url": form.get("cancel_url"),
            "metadata": _nested(form, "metadata"),
            "livemode": False,
            "created": int(time.time()),
            "expires_at": int(time.time()) + 86400,
            "url": f"https://checkout.stripe.com/c/pay/{sid}",
        }

    def _portal(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        customer = form.get("customer", "")
        if customer not in self.customers:
            return 400, _error(
                "invalid_request_error",
                f"No such customer: '{customer}'",
                "resource_missing",
                param="customer",
            )
        bps = "bps_" + secrets.token_hex(12)
        return 200, {
            "id": bps,
            "object": "billing_portal.session",
            "customer": customer,
            "return_url": form.get("return_url"),
            "livemode": False,
            "created": int(time.time()),
            "url": f"https://billing.stripe.com/p/session/test_{bps}",
        }


def _error(
    kind: str, message: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind, "message": message}
    if code:
        body["code"] = code
    if param:
        body["param"] = param
    return {"error": body}


def _nested(form: dict[str, str], prefix: str) -> dict[str, str]:
    start = prefix + "["
    return {k[len(start) : -1]: v for k, v in form.items() if k.startswith(start)}


@contextmanager
def running_fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            length = int(self.headers.get("content-length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            status, body = fake.answer(self.path, self.headers.get("authorization", ""), form)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("request-id", "req_" + secrets.token_hex(7))
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def event(
    kind: str, obj: dict[str, Any], event_id: str | None = None, created: int | None = None
) -> bytes:
    """A Stripe event envelope as its webhooks deliver it (``created``: when Stripe made it)."""
    return json.dumps(
        {
            "id": event_id or "evt_" + secrets.token_hex(12),
            "object": "event",
            "api_version": "2025-03-31.basil",
            "created": int(time.time()) if created is None else created,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": kind,
        }
    ).encode()


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """Stripe's scheme: ``t=<unix>,v1=<hex hmac_sha256(secret, "<t>.<payload>")>``."""
    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def subscription(
    user_id: int, plan: str, status: str = "active", sub_id: str = "sub_1", customer: str = "cus_1"
) -> dict[str, Any]:
    now = int(time.time())
    period_end = now + 30 * 86400
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "metadata": {"user_ref": str(user_id), "plan": plan},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_1",
                    "object": "subscription_item",
                    "price": {"id": PRICES[plan], "object": "price"},
                    "current_period_start": now,
                    "current_period_end": period_end,
                }
            ],
        },
    }


def failed_invoice(sub_id: str = "sub_1", customer: str = "cus_1") -> dict[str, Any]:
    return {
        "id": "in_" + secrets.token_hex(8),
        "object": "invoice",
        "customer": customer,
        "status": "open",
        "attempt_count": 1,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": sub_id, "metadata": {}},
        },
    }
