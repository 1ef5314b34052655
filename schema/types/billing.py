"""Where to send a person to pay or to manage what they pay for."""

from __future__ import annotations

import strawberry


@strawberry.type(description="A hosted checkout page: open url to subscribe.")
class CheckoutSession:
    url: str


@strawberry.type(description="The billing portal: open url to change or cancel the plan.")
class PortalSession:
    url: str
