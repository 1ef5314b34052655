"""Put a person on a plan directly, for tests about something other than paying."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services import billing_usage
from store.models import User


async def grant_plan(app: Any, email: str, plan: str) -> None:
    async with app.state.holo.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.email == email))
        assert user is not None, email
        sub = await billing_usage.subscription(session, user.id)
        sub.plan, sub.status = plan, "active"
        await session.commit()
