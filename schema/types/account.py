"""Auth results, devices and billing as the caller sees them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema import ids
from schema.types.user import User
from services.auth.sessions import AuthResult
from services.plans import PlanLimits
from store.models import HologramDevice as DeviceRow


@strawberry.type(description="Tokens for a session: send accessToken as 'Authorization: Bearer'.")
class AuthPayload:
    user: User
    access_token: str
    refresh_token: str = strawberry.field(
        description="Single use: each refreshToken call returns a new one."
    )
    access_token_expires_at: datetime

    @classmethod
    def from_result(cls, result: AuthResult) -> AuthPayload:
        return cls(
            user=User.from_model(result.user),
            access_token=result.access_token,
            refresh_token=result.refresh_token,
            access_token_expires_at=result.access_expires_at,
        )


@strawberry.type
class HologramDevice:
    row: strawberry.Private[DeviceRow]
    online: bool = False

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("HologramDevice", self.row.id))

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def model(self) -> str:
        return self.row.model

    @strawberry.field
    def serial(self) -> str:
        return self.row.serial

    @strawberry.field
    def capabilities(self) -> list[str]:
        return list(self.row.capabilities or [])

    @strawberry.field
    def firmware(self) -> str:
        return self.row.firmware

    @strawberry.field
    def speaks(self) -> bool:
        return self.row.speaks

    @strawberry.field
    def last_seen_at(self) -> datetime | None:
        return self.row.last_seen_at

    @strawberry.field
    def active_companion_id(self) -> strawberry.ID | None:
        if self.row.active_companion_id is None:
            return None
        return strawberry.ID(ids.encode("Companion", self.row.active_companion_id))


@strawberry.type(name="PlanLimits")
class PlanLimitsType:
    companions: int
    messages_per_day: int
    voice_minutes_per_month: int
    devices: int
    voice_message_seconds: int = strawberry.field(
        description="The longest voice message accepted, in seconds."
    )
    memories: int = strawberry.field(description="Long-term memories kept, across companions.")

    @classmethod
    def from_limits(cls, limits: PlanLimits) -> PlanLimitsType:
        return cls(
            companions=limits.companions,
            messages_per_day=limits.messages_per_day,
            voice_minutes_per_month=limits.voice_minutes_per_month,
            devices=limits.devices,
            voice_message_seconds=limits.voice_message_seconds,
            memories=limits.memories,
        )


@strawberry.type
class Usage:
    companions: int
    messages_today: int
    voice_minutes_this_month: float
    devices: int


@strawberry.type(name="Billing")
class BillingInfo:
    plan: str
    status: str
    provider: str
    current_period_end: datetime | None
    grace_until: datetime | None = strawberry.field(
        description="Payment failed: the plan's limits last until then, then free applies."
    )
    limits: PlanLimitsType
    usage: Usage
