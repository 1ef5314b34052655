"""Plans and what each one allows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlanLimits:
    companions: int
    messages_per_day: int
    voice_minutes_per_month: int
    devices: int
    voice_message_seconds: int  # the longest voice message accepted (read from its header)
    # Long-term memories a person keeps across companions (services/memories/store.py).
    memories: int = 200


PLANS: dict[str, PlanLimits] = {
    "free": PlanLimits(
        companions=3,
        messages_per_day=100,
        voice_minutes_per_month=30,
        devices=1,
        voice_message_seconds=60,
        memories=200,
    ),
    "plus": PlanLimits(
        companions=10,
        messages_per_day=1000,
        voice_minutes_per_month=300,
        devices=3,
        voice_message_seconds=180,
        memories=2000,
    ),
    "pro": PlanLimits(
        companions=50,
        messages_per_day=10000,
        voice_minutes_per_month=3000,
        devices=10,
        voice_message_seconds=300,
        memories=10000,
    ),
}


def limits_for(plan: str) -> PlanLimits:
    return PLANS.get(plan, PLANS["free"])
