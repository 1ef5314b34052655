"""Long-lived collaborators the app's lifespan builds once and every request shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.auth.policy import AuthPolicy


@dataclass(slots=True)
class AppState:
    sessionmaker: async_sessionmaker[AsyncSession]
    policy: AuthPolicy
    introspection: bool = True
    extras: dict[str, Any] = field(default_factory=dict)
