"""register, login, refreshToken, logout, changePassword."""

from __future__ import annotations

import strawberry

from context.request import Context
from schema.types.account import AuthPayload
from services.auth import sessions


@strawberry.type
class AuthMutation:
    @strawberry.mutation
    async def register(
        self, info: strawberry.Info[Context, None], email: str, password: str, display_name: str
    ) -> AuthPayload:
        await info.context.limit("register")
        app = info.context.app
        async with app.sessionmaker() as session:
            result = await sessions.register(
                session, app.policy, email, password, display_name, info.context.client_key
            )
        return AuthPayload.from_result(result)

    @strawberry.mutation
    async def login(
        self, info: strawberry.Info[Context, None], email: str, password: str
    ) -> AuthPayload:
        await info.context.limit("login")
        app = info.context.app
        async with app.sessionmaker() as session:
            result = await sessions.login(
                session, app.policy, email, password, info.context.client_key
            )
        return AuthPayload.from_result(result)

    @strawberry.mutation(
        description="Exchange a refresh token for new tokens; the old one is spent."
    )
    async def refresh_token(
        self, info: strawberry.Info[Context, None], refresh_token: str
    ) -> AuthPayload:
        await info.context.limit("refresh_token")
        app = info.context.app
        async with app.sessionmaker() as session:
            result = await sessions.refresh(
                session, app.policy, refresh_token, info.context.client_key
            )
        return AuthPayload.from_result(result)

    @strawberry.mutation(description="End the session the refresh token belongs to.")
    async def logout(self, info: strawberry.Info[Context, None], refresh_token: str) -> bool:
        app = info.context.app
        async with app.sessionmaker() as session:
            return await sessions.logout(session, app.policy, refresh_token)

    @strawberry.mutation(description="Ends every other session of the account.")
    async def change_password(
        self, info: strawberry.Info[Context, None], current_password: str, new_password: str
    ) -> AuthPayload:
        viewer = info.context.person()
        app = info.context.app
        async with app.sessionmaker() as session:
            result = await sessions.change_password(
                session,
                app.policy,
                viewer.user_id,
                current_password,
                new_password,
                keep_session=viewer.session_id,
            )
        return AuthPayload.from_result(result)
