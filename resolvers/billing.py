"""startCheckout, openBillingPortal."""

from __future__ import annotations

import strawberry

from context.request import Context
from schema.types.billing import CheckoutSession, PortalSession
from services.billing import Billing


def _billing(info: strawberry.Info[Context, None]) -> Billing:
    billing = info.context.app.billing
    if billing is None:
        raise RuntimeError("billing is not configured")  # create_app always sets it
    return billing


@strawberry.type
class BillingMutation:
    @strawberry.mutation(description="Start paying for plan ('plus' or 'pro'); open the url.")
    async def start_checkout(
        self, info: strawberry.Info[Context, None], plan: str
    ) -> CheckoutSession:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            url = await _billing(info).start_checkout(session, viewer.user_id, plan)
        return CheckoutSession(url=url)

    @strawberry.mutation(description="Manage or cancel the paid plan; open the url.")
    async def open_billing_portal(self, info: strawberry.Info[Context, None]) -> PortalSession:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            url = await _billing(info).open_portal(session, viewer.user_id)
        return PortalSession(url=url)
