"""Sessions end at once: logout, a stolen refresh token, a password change, unpairing and
account deletion refuse that session's access tokens on the next request and close its live
sockets, on every process (two servers sharing Redis on the PostgreSQL + Redis run; one
process on the embedded default), while other sessions go on."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from api.settings import Settings
from pipeline.revocation.memory import MemoryRevocationStore
from store.base import utcnow
from store.db import make_engine
from store.models import RefreshToken
from tests.conftest import RUN_NAMESPACE, broadcast_env
from tests.devices.helpers import Closed, GqlSocket, pair_live
from tests.realtime.helpers import graphql, ok
from tests.support.graphql import GraphQLClient
from tests.support.server import LiveServer, free_port, live_server

PASSWORD = "correct horse"
REGISTER = """
mutation($e: String!) {
  register(email: $e, password: "correct horse", displayName: "Ada") {
    accessToken refreshToken
  }
}
"""
LOGIN = """
mutation($e: String!) {
  login(email: $e, password: "correct horse") { accessToken refreshToken }
}
"""
REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }"
LOGOUT = "mutation($t: String!) { logout(refreshToken: $t) }"
ME = "{ me { email } }"
SESSION_ENDED = Closed(4401, "Session ended")
# One worker runs them all: they share their servers (starting them is most of their time).
pytestmark = pytest.mark.xdist_group("session-revocation")


@pytest.fixture(scope="module")
def servers(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two processes behind one Redis when the run has one; else the one embedded process.
    Shared by this module's tests (starting them is most of their time): each test signs up
    people of its own."""
    storage = tmp_path_factory.mktemp("revocation") / "storage"
    env = broadcast_env()
    if not env:
        with live_server(database_url, storage) as only:
            yield only, only
        return
    with (
        live_server(database_url, storage, **env) as a,
        live_server(database_url, storage, **env) as b,
    ):
        yield a, b


def new_email() -> str:
    return f"ada-{uuid.uuid4().hex[:12]}@example.com"


def sign_in(server: LiveServer, email: str = "") -> tuple[dict[str, str], ...]:
    """Two sessions of one account: registering, then logging in from another device."""
    email = email or new_email()
    first = ok(server, REGISTER, {"e": email})["register"]
    second = ok(server, LOGIN, {"e": email})["login"]
    return first, second


def refused(server: LiveServer, token: str) -> dict[str, Any]:
    body = graphql(server, ME, token=token)
    assert body.get("errors"), f"the token still works: {body}"
    extensions: dict[str, Any] = body["errors"][0]["extensions"]
    return extensions


async def still_open(socket: GqlSocket) -> None:
    """The socket answers an operation: it was left alone."""
    await socket.subscribe("alive", ME, {})
    answer = await socket.next(5)
    assert isinstance(answer, dict) and answer["me"]["email"].endswith("@example.com"), answer


async def test_logout_refuses_the_token_and_closes_its_sockets_on_every_process(
    servers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = servers
    ended, kept = sign_in(a)
    ok(b, ME, token=ended["accessToken"])  # b has just checked it (and remembers it)
    doomed = await GqlSocket.open(b, ended["accessToken"])
    other = await GqlSocket.open(b, kept["accessToken"])
    try:
        started = time.monotonic()
        assert ok(a, LOGOUT, {"t": ended["refreshToken"]})["logout"] is True
        assert await doomed.next(5) == SESSION_ENDED
        elapsed_ms = (time.monotonic() - started) * 1000
        print(f"\nlogout to its socket's close on the other process: {elapsed_ms:.0f} ms")
        for server in (b, a):
            reason = refused(server, ended["accessToken"])
            assert reason == {"code": "UNAUTHENTICATED", "reason": "TOKEN_REVOKED"}
        await still_open(other)
        assert ok(b, ME, token=kept["accessToken"])["me"]["email"].endswith("@example.com")
    finally:
        await other.close()


async def test_a_reused_refresh_token_ends_the_newest_tokens_of_that_login(
    servers: tuple[LiveServer, LiveServer], database_url: str
) -> None:
    a, b = servers
    stolen, kept = sign_in(a)
    newest = ok(a, REFRESH, {"t": stolen["refreshToken"]})["refreshToken"]
    socket = await GqlSocket.open(b, newest["accessToken"])
    other = await GqlSocket.open(b, kept["accessToken"])
    engine = make_engine(database_url)  # a minute later: a thief, not a second tab
    async with engine.begin() as conn:
        await conn.execute(
            update(RefreshToken)
            .where(RefreshToken.used_at.is_not(None))
            .values(used_at=utcnow() - timedelta(minutes=1))
        )
    await engine.dispose()
    try:
        reused = graphql(a, REFRESH, {"t": stolen["refreshToken"]})["errors"][0]["extensions"]
        assert reused["reason"] == "REFRESH_REUSED"
        assert await socket.next(5) == SESSION_ENDED
        assert refused(b, newest["accessToken"])["reason"] == "TOKEN_REVOKED"
        await still_open(other)
    finally:
        await other.close()


async def test_changing_the_password_ends_every_other_session(
    servers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = servers
    mine, elsewhere = sign_in(a)
    other_socket = await GqlSocket.open(b, elsewhere["accessToken"])
    my_socket = await GqlSocket.open(b, mine["accessToken"])
    try:
        changed = ok(
            a,
            'mutation { changePassword(currentPassword: "correct horse", '
            'newPassword: "battery staple 42") { accessToken } }',
            token=mine["accessToken"],
        )["changePassword"]
        assert await other_socket.next(5) == SESSION_ENDED
        assert refused(b, elsewhere["accessToken"])["reason"] == "TOKEN_REVOKED"
        assert ok(b, ME, token=changed["accessToken"])["me"]["email"].endswith("@example.com")
        await still_open(my_socket)  # the caller's own session goes on
    finally:
        await my_socket.close()


async def test_unpairing_closes_every_socket_of_the_device_on_every_process(
    servers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = servers
    owner, _ = sign_in(a)
    device = pair_live(a, owner["accessToken"])
    socket = await GqlSocket.open(b, device["token"])  # connected, no stream open
    owner_socket = await GqlSocket.open(b, owner["accessToken"])
    try:
        ok(
            a,
            "mutation($d: ID!) { unpairDevice(id: $d) }",
            {"d": device["id"]},
            owner["accessToken"],
        )
        assert await socket.next(5) == Closed(4403, "Device unpaired")
        body = graphql(b, "{ deviceManifest { deviceId } }", token=device["token"])
        assert body["errors"][0]["extensions"]["reason"] == "TOKEN_REVOKED"
        await still_open(owner_socket)
    finally:
        await owner_socket.close()


async def test_deleting_the_account_closes_all_its_sockets_and_no_one_elses(
    servers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = servers
    first, second = sign_in(a)
    stranger = ok(a, REGISTER, {"e": new_email()})["register"]
    sockets = [await GqlSocket.open(b, t["accessToken"]) for t in (first, second)]
    strangers_socket = await GqlSocket.open(b, stranger["accessToken"])
    try:
        ok(a, f'mutation {{ deleteMyAccount(password: "{PASSWORD}") }}', None, first["accessToken"])
        for socket in sockets:
            assert await socket.next(5) == Closed(4401, "Account deleted")
        assert refused(b, second["accessToken"])["reason"] == "TOKEN_REVOKED"
        await still_open(strangers_socket)
    finally:
        await strangers_socket.close()


# ---- the shared store unreachable: refuse, never let a revoked token in --------------------


@pytest.fixture
def unreachable_store(settings: Settings) -> Settings:
    nothing_listens = free_port()
    return settings.model_copy(
        update={"shared_state_url": f"redis://127.0.0.1:{nothing_listens}/0"}
    )


async def test_without_the_shared_store_requests_are_refused_as_retryable(
    unreachable_store: Settings, clean_db: None
) -> None:
    import httpx

    from api.app import create_app

    application = create_app(unreachable_store)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            api = GraphQLClient(http)
            tokens = (await api.ok(REGISTER, {"e": "ada@example.com"}))["register"]
            error = await api.error(ME, token=tokens["accessToken"])
            assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE", "retryable": True}
            # Logging out still revokes the refresh token; the answer asks for a retry.
            out = await api.error(LOGOUT, {"t": tokens["refreshToken"]})
            assert out["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            gone = await api.error(REFRESH, {"t": tokens["refreshToken"]})
            assert gone["extensions"]["code"] == "UNAUTHENTICATED"


# ---- the stores themselves ---------------------------------------------------------------


async def test_the_memory_store_remembers_ended_sessions() -> None:
    store = MemoryRevocationStore()
    await store.revoke(["family-1"], ttl_s=900)
    assert await store.is_revoked("family-1")
    assert not await store.is_revoked("family-2")


@pytest.mark.redis
@pytest.mark.skipif(
    not os.environ.get("HOLOMATE_TEST_BROADCAST_URL"), reason="the PostgreSQL + Redis run"
)
async def test_redis_entries_expire_when_the_longest_access_token_would_have() -> None:
    from pipeline.revocation.redis_store import RedisRevocationStore

    url = os.environ["HOLOMATE_TEST_BROADCAST_URL"]
    store = RedisRevocationStore.from_url(url, RUN_NAMESPACE)
    try:
        await store.revoke(["family-1"], ttl_s=900)
        assert await store.is_revoked("family-1")
        assert not await store.is_revoked("family-2")
        ttl = await store._redis.ttl(f"{RUN_NAMESPACE}holomate:revoked:family-1")
        assert 0 < ttl <= 900
    finally:
        await store.aclose()
