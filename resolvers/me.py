"""me, updateMe, setPreferences, billing, devices, voiceProfiles, characterAssets."""

from __future__ import annotations

import strawberry

from context.request import Context
from resolvers.devices import device_type
from schema.types.account import BillingInfo, HologramDevice, PlanLimitsType, Usage
from schema.types.user import Preferences, User
from schema.types.voice import CharacterAsset, VoiceProfile
from services import billing_usage, users
from services.billing import effective_plan
from services.owned import list_owned
from services.plans import limits_for
from store.base import utcnow
from store.models import CharacterAsset as CharacterAssetRow
from store.models import HologramDevice as DeviceRow
from store.models import User as UserRow
from store.models import VoiceProfile as VoiceProfileRow


@strawberry.input
class PreferencesInput:
    preferred_name: str | None = None
    language: str | None = None
    reply_length: str | None = strawberry.field(default=None, description="short, medium or long")
    voice_enabled: bool | None = None
    topics_to_avoid: list[str] | None = None


@strawberry.type
class MeQuery:
    @strawberry.field(description="The signed-in person; null when anonymous.")
    async def me(self, info: strawberry.Info[Context, None]) -> User | None:
        ctx = info.context
        if ctx.auth_error is not None:
            raise ctx.auth_error
        if ctx.viewer is None:
            return None
        ctx.person()  # a device token: FORBIDDEN, like every account operation
        row = await ctx.loaders.user_by_id.load(ctx.viewer.user_id)
        return User.from_model(row) if row else None

    @strawberry.field
    async def voice_profiles(self, info: strawberry.Info[Context, None]) -> list[VoiceProfile]:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            rows = await list_owned(session, VoiceProfileRow, viewer.user_id)
        return [VoiceProfile.from_model(r) for r in rows]

    @strawberry.field
    async def character_assets(self, info: strawberry.Info[Context, None]) -> list[CharacterAsset]:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            rows = await list_owned(session, CharacterAssetRow, viewer.user_id)
        return [CharacterAsset.from_model(r) for r in rows]

    @strawberry.field
    async def devices(self, info: strawberry.Info[Context, None]) -> list[HologramDevice]:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            rows = await list_owned(
                session, DeviceRow, viewer.user_id, DeviceRow.revoked_at.is_(None)
            )
            return [device_type(info.context, r) for r in rows]

    @strawberry.field(description="The caller's plan, its limits and what has been used.")
    async def billing(self, info: strawberry.Info[Context, None]) -> BillingInfo:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            sub = await billing_usage.subscription(session, viewer.user_id)
            used = await billing_usage.usage(session, viewer.user_id)
            await session.commit()
        plan = effective_plan(sub, utcnow())
        return BillingInfo(
            plan=plan,
            status=sub.status,
            provider=sub.provider,
            current_period_end=sub.current_period_end,
            grace_until=sub.grace_until,
            limits=PlanLimitsType.from_limits(limits_for(plan)),
            usage=Usage(
                companions=used.companions,
                messages_today=used.messages_today,
                voice_minutes_this_month=round(used.voice_ms_this_month / 60000, 2),
                devices=used.devices,
            ),
        )


@strawberry.type
class MeMutation:
    @strawberry.mutation
    async def update_me(
        self, info: strawberry.Info[Context, None], display_name: str | None = None
    ) -> User:
        viewer = info.context.person()
        async with info.context.app.sessionmaker() as session:
            row: UserRow = await users.update_me(session, viewer.user_id, display_name)
        return User.from_model(row)

    @strawberry.mutation
    async def set_preferences(
        self, info: strawberry.Info[Context, None], input: PreferencesInput
    ) -> Preferences:
        viewer = info.context.person()
        fields = users.PreferenceFields(
            preferred_name=input.preferred_name,
            language=input.language,
            reply_length=input.reply_length,
            voice_enabled=input.voice_enabled,
            topics_to_avoid=input.topics_to_avoid,
        )
        async with info.context.app.sessionmaker() as session:
            pref = await users.set_preferences(session, viewer.user_id, fields)
        return Preferences.from_model(pref)
