"""Accounts: register, log in, rotate refresh tokens, log out, change password."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from starlette.applications import Starlette

from store.base import utcnow
from store.models import RefreshToken
from tests.support.graphql import LOGIN, PASSWORD, GraphQLClient, register

ME = "{ me { id email displayName } }"
REFRESH = "mutation R($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }"
LOGOUT = "mutation L($t: String!) { logout(refreshToken: $t) }"
CHANGE = """
mutation C($old: String!, $new: String!) {
  changePassword(currentPassword: $old, newPassword: $new) { accessToken refreshToken }
}
"""


async def test_a_new_account_can_sign_in_and_see_itself(api: GraphQLClient) -> None:
    reg = await register(api, "Ada@Example.com", "Ada")
    assert reg["user"]["email"] == "ada@example.com"
    me = await api.ok(ME, token=reg["accessToken"])
    assert me["me"] == {"id": reg["user"]["id"], "email": "ada@example.com", "displayName": "Ada"}
    login = await api.ok(LOGIN, {"email": "ada@example.com", "password": PASSWORD})
    assert login["login"]["user"]["id"] == reg["user"]["id"]


async def test_anonymous_me_is_null(api: GraphQLClient) -> None:
    assert (await api.ok(ME))["me"] is None


async def test_registering_the_same_email_twice_is_a_conflict(api: GraphQLClient) -> None:
    await register(api, "ada@example.com")
    error = await api.error(
        'mutation { register(email: "ADA@example.com", password: "whatever123", '
        'displayName: "Other") { accessToken } }'
    )
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["extensions"]["field"] == "email"


@pytest.mark.parametrize(
    ("email", "password", "name", "field"),
    [
        ("not-an-email", PASSWORD, "Ada", "email"),
        ("ada@example.com", "short", "Ada", "password"),
        ("ada@example.com", PASSWORD, "", "displayName"),
        ("ada@example.com", PASSWORD, "x" * 81, "displayName"),
        ("a" * 300 + "@example.com", PASSWORD, "Ada", "email"),
    ],
)
async def test_bad_registration_input_names_the_field_and_creates_nothing(
    api: GraphQLClient, email: str, password: str, name: str, field: str
) -> None:
    error = await api.error(
        "mutation R($e: String!, $p: String!, $n: String!) "
        "{ register(email: $e, password: $p, displayName: $n) { accessToken } }",
        {"e": email, "p": password, "n": name},
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    login = await api.error(LOGIN, {"email": "ada@example.com", "password": PASSWORD})
    assert login["extensions"]["code"] == "UNAUTHENTICATED"


async def test_wrong_password_and_unknown_email_look_the_same(api: GraphQLClient) -> None:
    await register(api, "ada@example.com")
    wrong = await api.error(LOGIN, {"email": "ada@example.com", "password": "nope-nope-nope"})
    unknown = await api.error(LOGIN, {"email": "bob@example.com", "password": "nope-nope-nope"})
    assert wrong["message"] == unknown["message"]
    assert (
        wrong["extensions"]
        == unknown["extensions"]
        == {
            "code": "UNAUTHENTICATED",
            "reason": "BAD_CREDENTIALS",
        }
    )


async def test_repeated_failed_logins_are_slowed_down(api: GraphQLClient) -> None:
    await register(api, "ada@example.com")
    for _ in range(5):
        error = await api.error(LOGIN, {"email": "ada@example.com", "password": "wrong-password"})
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
    # After five failures this client (account, IP) waits, even with the right password; the
    # owner elsewhere does not (tests/api/test_login_lockout.py).
    await api.error(LOGIN, {"email": "ada@example.com", "password": "wrong-password"})
    locked = await api.error(LOGIN, {"email": "ada@example.com", "password": PASSWORD})
    assert locked["extensions"]["code"] == "RATE_LIMITED"
    assert locked["extensions"]["retryAfter"] >= 1


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(
    api: GraphQLClient, app: Starlette
) -> None:
    reg = await register(api, "ada@example.com")
    first = (await api.ok(REFRESH, {"t": reg["refreshToken"]}))["refreshToken"]
    assert first["refreshToken"] != reg["refreshToken"]
    assert (await api.ok(ME, token=first["accessToken"]))["me"]["email"] == "ada@example.com"
    # At once, the spent token is a second tab racing the first: refused, nothing revoked.
    racing = await api.error(REFRESH, {"t": reg["refreshToken"]})
    assert racing["extensions"] == {"code": "UNAUTHENTICATED", "reason": "REFRESH_ROTATED"}
    assert (await api.ok(ME, token=first["accessToken"]))["me"]["email"] == "ada@example.com"
    # A minute later it is a thief replaying it: refused, and the newer token dies too.
    async with app.state.holo.sessionmaker() as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.used_at.is_not(None))
            .values(used_at=utcnow() - timedelta(minutes=1))
        )
        await session.commit()
    reused = await api.error(REFRESH, {"t": reg["refreshToken"]})
    assert reused["extensions"] == {"code": "UNAUTHENTICATED", "reason": "REFRESH_REUSED"}
    revoked = await api.error(REFRESH, {"t": first["refreshToken"]})
    assert revoked["extensions"]["code"] == "UNAUTHENTICATED"


async def test_logout_ends_the_session(api: GraphQLClient) -> None:
    reg = await register(api, "ada@example.com")
    assert (await api.ok(LOGOUT, {"t": reg["refreshToken"]}))["logout"] is True
    error = await api.error(REFRESH, {"t": reg["refreshToken"]})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_changing_password_ends_other_sessions(api: GraphQLClient) -> None:
    reg = await register(api, "ada@example.com")
    changed = await api.ok(
        CHANGE, {"old": PASSWORD, "new": "a brand new password"}, token=reg["accessToken"]
    )
    old_access = await api.error(ME, token=reg["accessToken"])
    assert old_access["extensions"] == {"code": "UNAUTHENTICATED", "reason": "TOKEN_REVOKED"}
    assert (await api.error(REFRESH, {"t": reg["refreshToken"]}))["extensions"]["code"] == (
        "UNAUTHENTICATED"
    )
    new_access = changed["changePassword"]["accessToken"]
    assert (await api.ok(ME, token=new_access))["me"]["email"] == "ada@example.com"
    await api.ok(LOGIN, {"email": "ada@example.com", "password": "a brand new password"})


async def test_changing_password_needs_the_current_one(api: GraphQLClient) -> None:
    reg = await register(api, "ada@example.com")
    error = await api.error(
        CHANGE, {"old": "not-my-password", "new": "a brand new password"}, reg["accessToken"]
    )
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    await api.ok(LOGIN, {"email": "ada@example.com", "password": PASSWORD})


async def test_garbage_and_expired_tokens_are_refused_clearly(
    api: GraphQLClient, settings: object
) -> None:
    from api.settings import Settings
    from services.auth.tokens import TokenCodec

    assert isinstance(settings, Settings)
    reg = await register(api, "ada@example.com")
    codec = TokenCodec(settings.secret_key.get_secret_value())
    user_pk = int(reg["user"]["id"].split("_")[1])
    expired = codec.issue("access", user_pk, 0, -10, user_pk)
    assert (await api.error(ME, token=expired))["extensions"] == {
        "code": "UNAUTHENTICATED",
        "reason": "TOKEN_EXPIRED",
    }
    assert (await api.error(ME, token="garbage"))["extensions"]["reason"] == "TOKEN_INVALID"
    forged = TokenCodec("another-secret-of-enough-length-123456").issue(
        "access", user_pk, 0, 60, user_pk
    )
    assert (await api.error(ME, token=forged))["extensions"]["reason"] == "TOKEN_INVALID"
    # A public operation still works with a stale token attached.
    await api.ok(LOGIN, {"email": "ada@example.com", "password": PASSWORD}, token=expired)
