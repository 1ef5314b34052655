"""Failed logins slow down the guesser, never the owner: a stranger's wrong passwords at one IP
do not stop the right password from the owner's IP, and guessing from many IPs runs out of a
per-account budget that the owner's known IPs are exempt from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette

from api.settings import Settings
from tests.support.graphql import LOGIN, PASSWORD, REGISTER, GraphQLClient
from tests.support.limits import AppFactory, app_factory, client

OWNER_IP, MOVED_IP, STRANGER_IP = "198.51.100.10", "192.0.2.44", "203.0.113.66"
REFRESH = "mutation R($t: String!) { refreshToken(refreshToken: $t) { accessToken } }"
EMAIL = "ada@example.com"


@pytest.fixture
async def make_app(settings: Settings, clean_db: None) -> AsyncIterator[AppFactory]:
    async with app_factory(settings) as make:
        yield make


async def login(app: Starlette, ip: str, password: str, email: str = EMAIL) -> dict[str, Any]:
    async with client(app, ip) as http:
        return await GraphQLClient(http).raw(LOGIN, {"email": email, "password": password})


def code(body: dict[str, Any]) -> str | None:
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else None


async def registered(make_app: AppFactory, **overrides: Any) -> tuple[Starlette, str]:
    """The app, with the owner's account created from OWNER_IP, and its refresh token."""
    app = await make_app(trusted_proxies=["127.0.0.1"], **overrides)
    async with client(app, OWNER_IP) as http:
        data = await GraphQLClient(http).ok(
            REGISTER, {"email": EMAIL, "password": PASSWORD, "name": "A"}
        )
    return app, data["register"]["refreshToken"]


async def test_a_strangers_failures_never_lock_the_owner_out(make_app: AppFactory) -> None:
    app, _ = await registered(make_app)
    answers = [await login(app, STRANGER_IP, "wrong-password") for _ in range(8)]
    assert [code(a) for a in answers] == ["UNAUTHENTICATED"] * 5 + ["RATE_LIMITED"] * 3
    assert answers[-1]["errors"][0]["extensions"]["retryAfter"] >= 1
    # The stranger's pair is slowed down, even with the right password...
    assert code(await login(app, STRANGER_IP, PASSWORD)) == "RATE_LIMITED"
    # ...while the owner, at their own IP, gets in at once.
    assert code(await login(app, OWNER_IP, PASSWORD)) is None


async def test_guessing_from_many_ips_runs_out_but_the_owners_known_ips_get_in(
    make_app: AppFactory,
) -> None:
    app, refresh_token = await registered(make_app, login_failures_account="4/hour")
    # The owner's laptop moves to another network and keeps its session alive from there.
    async with client(app, MOVED_IP) as http:
        await GraphQLClient(http).ok(REFRESH, {"t": refresh_token})
    for n in range(4):  # a botnet: one guess per address
        assert code(await login(app, f"203.0.113.{n}", "guess")) == "UNAUTHENTICATED"
    # The account's failure budget is spent: new addresses wait, whatever they send...
    assert code(await login(app, "203.0.113.200", PASSWORD)) == "RATE_LIMITED"
    assert code(await login(app, "203.0.113.201", "guess")) == "RATE_LIMITED"
    # ...while the owner gets in where the account was created, logged in or refreshed.
    assert code(await login(app, OWNER_IP, PASSWORD)) is None
    assert code(await login(app, MOVED_IP, PASSWORD)) is None


async def test_one_ip_trying_many_accounts_is_slowed_down(make_app: AppFactory) -> None:
    app, _ = await registered(make_app, login_failures_ip="3/hour")
    for n in range(3):
        assert code(await login(app, STRANGER_IP, "pw", f"user{n}@x.org")) == "UNAUTHENTICATED"
    assert code(await login(app, STRANGER_IP, "pw", "user9@x.org")) == "RATE_LIMITED"
    # An unknown email and a real one answer alike: nothing says which accounts exist.
    assert code(await login(app, STRANGER_IP, PASSWORD)) == "RATE_LIMITED"
    assert code(await login(app, OWNER_IP, PASSWORD)) is None
