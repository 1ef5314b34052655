"""Plans people pay for: checkout, the billing portal, and applying the provider's events.

The provider (``pipeline.billing``) says what happened; this module decides what it means for
the person's plan. Events are applied once each (``billing_events`` remembers their ids), so
a provider's retries and replays change nothing. What a person may use is always read through
``effective_plan``: a failed payment keeps the paid plan for a grace period, then reads as free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.billing.base import (
    CHECKOUT_COMPLETED,
    PAYMENT_FAILED,
    SUBSCRIPTION_CREATED,
    SUBSCRIPTION_DELETED,
    SUBSCRIPTION_UPDATED,
    BillingEvent,
    BillingProvider,
)
from services import billing_usage
from services.errors import BadUserInput, Conflict, NotFound
from services.plans import PLANS
from store.base import utcnow
from store.models import BillingSubscription, ReceivedBillingEvent, User

FREE = "free"
ENTITLED = frozenset({"active", "trialing"})
IN_ARREARS = frozenset({"past_due", "unpaid"})


def effective_plan(sub: BillingSubscription | None, now: datetime) -> str:
    """The plan whose limits apply now: paid and current, or in arrears but within grace."""
    if sub is None or sub.plan not in PLANS:
        return FREE
    if sub.status in ENTITLED:
        return sub.plan
    if sub.status in IN_ARREARS and sub.grace_until is not None and now < sub.grace_until:
        return sub.plan
    return FREE


@dataclass(slots=True)
class Billing:
    provider: BillingProvider
    grace: timedelta
    return_url: str

    async def start_checkout(self, session: AsyncSession, user_id: int, plan: str) -> str:
        if plan not in PLANS or plan == FREE:
            paid = ", ".join(p for p in PLANS if p != FREE)
            raise BadUserInput(f"Choose a paid plan: {paid}", field="plan")
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("User")
        sub = await billing_usage.subscription(session, user_id)
        await session.commit()
        current = effective_plan(sub, utcnow())
        if current == plan:
            raise Conflict(f"Already on the {plan} plan", reason="ALREADY_ON_PLAN")
        if current != FREE and sub.subscription_ref and sub.provider != "local":
            # A second checkout would start a second subscription and bill twice.
            raise Conflict("Change plans in the billing portal", reason="USE_BILLING_PORTAL")
        sep = "&" if "?" in self.return_url else "?"
        return await self.provider.create_checkout(
            user_ref=str(user_id),
            email=user.email,
            plan=plan,
            success_url=f"{self.return_url}{sep}checkout=success",
            cancel_url=f"{self.return_url}{sep}checkout=cancelled",
        )

    async def open_portal(self, session: AsyncSession, user_id: int) -> str:
        sub = await session.scalar(
            select(BillingSubscription).where(BillingSubscription.user_id == user_id)
        )
        if sub is None or not sub.customer_ref:
            raise Conflict("No billing account yet: subscribe first", reason="NO_BILLING_ACCOUNT")
        return await self.provider.create_portal(sub.customer_ref, self.return_url)

    async def apply_event(self, session: AsyncSession, event: BillingEvent) -> bool:
        """Apply one verified event once. False when it was seen before (a replay changes
        nothing) or when a newer event of the same subscription was applied already."""
        now = utcnow()
        if await session.get(ReceivedBillingEvent, event.id) is not None:
            return False
        try:
            session.add(ReceivedBillingEvent(id=event.id, type=event.type, received_at=now))
            await session.flush()
            sub = await _find(session, event)
            applied = sub is not None and _concerns(sub, event) and not _older(sub, event)
            if sub is not None and applied:
                _apply(sub, event, self.provider.name, now, self.grace)
            await session.commit()
        except IntegrityError:
            # The same event delivered twice at once: the other delivery applied it.
            await session.rollback()
            return False
        return applied


async def _find(session: AsyncSession, event: BillingEvent) -> BillingSubscription | None:
    """The row the event is about, locked until commit: two events of one subscription
    delivered at once are compared and applied one after the other."""
    sub = await _match(session, event)
    if sub is not None:
        await session.refresh(sub, with_for_update=True)
    return sub


async def _match(session: AsyncSession, event: BillingEvent) -> BillingSubscription | None:
    if event.user_ref and event.user_ref.isdigit() and len(event.user_ref) < 19:
        user_id = int(event.user_ref)
        if await session.get(User, user_id) is not None:
            return await billing_usage.subscription(session, user_id)
    for column, ref in (
        (BillingSubscription.subscription_ref, event.subscription_ref),
        (BillingSubscription.customer_ref, event.customer_ref),
    ):
        if ref:
            sub = await session.scalar(select(BillingSubscription).where(column == ref).limit(1))
            if sub is not None:
                return sub
    return None


def _older(sub: BillingSubscription, event: BillingEvent) -> bool:
    """Stripe does not deliver in order: an old ``canceled`` arriving after a newer ``active``
    of the same subscription must not put a paying person back on free."""
    same = bool(event.subscription_ref) and event.subscription_ref == sub.subscription_ref
    return (
        same
        and event.created is not None
        and sub.state_as_of is not None
        and event.created < sub.state_as_of
    )


def _concerns(sub: BillingSubscription, event: BillingEvent) -> bool:
    """Late news about a replaced subscription must not touch the current one."""
    if event.type in (CHECKOUT_COMPLETED, SUBSCRIPTION_CREATED):
        return True
    return not (sub.subscription_ref and event.subscription_ref) or (
        sub.subscription_ref == event.subscription_ref
    )


def _apply(
    sub: BillingSubscription, event: BillingEvent, provider: str, now: datetime, grace: timedelta
) -> None:
    sub.provider = provider
    sub.customer_ref = event.customer_ref or sub.customer_ref
    same_subscription = event.subscription_ref in (None, sub.subscription_ref)
    sub.state_as_of = event.created or (sub.state_as_of if same_subscription else None)
    if event.type == CHECKOUT_COMPLETED:
        sub.subscription_ref = event.subscription_ref or sub.subscription_ref
        if event.plan and event.status in ENTITLED:  # unpaid sessions grant nothing yet
            sub.plan = event.plan
            _set_status(sub, event.status, now, grace)
    elif event.type in (SUBSCRIPTION_CREATED, SUBSCRIPTION_UPDATED):
        sub.subscription_ref = event.subscription_ref or sub.subscription_ref
        if event.plan:
            sub.plan = event.plan
        if event.status:
            _set_status(sub, event.status, now, grace)
        sub.current_period_end = event.current_period_end or sub.current_period_end
    elif event.type == SUBSCRIPTION_DELETED:
        sub.plan, sub.status, sub.grace_until = FREE, "canceled", None
        sub.current_period_end = None
    elif event.type == PAYMENT_FAILED:
        _set_status(sub, "past_due", now, grace)


def _set_status(sub: BillingSubscription, status: str, now: datetime, grace: timedelta) -> None:
    if status == "incomplete" and sub.status in ENTITLED:
        # Stripe never moves a paid subscription back to incomplete: this is a late "created".
        return
    sub.status = status
    if status in IN_ARREARS:
        # Retried payments fail again and again; the grace period starts at the first failure.
        sub.grace_until = sub.grace_until or now + grace
    elif status in ENTITLED:
        sub.grace_until = None
