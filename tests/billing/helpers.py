"""Queries and steps shared by the billing tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from schema import ids
from store.models import BillingSubscription
from tests.support.graphql import GraphQLClient, register

BILLING = """
query {
  billing {
    plan status provider graceUntil currentPeriodEnd
    limits { companions messagesPerDay voiceMinutesPerMonth devices }
    usage { companions }
  }
}
"""
START_CHECKOUT = "mutation($plan: String!) { startCheckout(plan: $plan) { url } }"
OPEN_PORTAL = "mutation { openBillingPortal { url } }"


async def person(api: GraphQLClient, email: str = "ada@example.com") -> tuple[str, int]:
    """A signed-in person: their access token and user id."""
    result = await register(api, email)
    return result["accessToken"], ids.decode("User", result["user"]["id"])


async def billing(api: GraphQLClient, token: str) -> dict[str, Any]:
    data = await api.ok(BILLING, token=token)
    result: dict[str, Any] = data["billing"]
    return result


async def set_grace_until(app: Any, user_id: int, when: datetime) -> None:
    """Move the end of the grace period, as time passing would."""
    async with app.state.holo.sessionmaker() as session:
        sub = await session.scalar(
            select(BillingSubscription).where(BillingSubscription.user_id == user_id)
        )
        assert sub is not None
        sub.grace_until = when
        await session.commit()
