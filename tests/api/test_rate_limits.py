"""Rate limits: per client IP and per account on every request, tighter on the mutations that
create things or check passwords; RATE_LIMITED with retryAfter, 429 where a whole request is
refused. Other clients are never slowed by one that floods."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.settings import Settings
from tests.support.graphql import PASSWORD, REGISTER, GraphQLClient
from tests.support.limits import AppFactory, app_factory, client, redis_url_or_none
from tests.support.server import free_port

PROXY = ["127.0.0.1"]  # the test clients' peer: what they say in X-Forwarded-For counts
TYPENAME = {"query": "{ __typename }"}
ME = {"query": "{ me { id } }"}


@pytest.fixture
async def make_app(settings: Settings, clean_db: None) -> AsyncIterator[AppFactory]:
    async with app_factory(settings) as make:
        yield make


def assert_refused(response: httpx.Response) -> int:
    """A whole request refused: 429, Retry-After, and the same seconds in a GraphQL error."""
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": retry_after}
    return retry_after


async def test_a_flooding_client_gets_429_while_another_ip_is_served(make_app: AppFactory) -> None:
    app = await make_app(rate_limit_ip="5/minute", trusted_proxies=PROXY)
    async with client(app, "203.0.113.1") as flooder, client(app, "203.0.113.2") as other:
        for _ in range(5):
            assert (await flooder.post("/graphql", json=TYPENAME)).status_code == 200
        assert_refused(await flooder.post("/graphql", json=TYPENAME))
        assert_refused(await flooder.get("/graphql", params=TYPENAME))  # any method, any path
        # The web app can read the refusal (CORS) and report it with its request id.
        origin = {"origin": "http://localhost:3000"}
        refused = await flooder.post("/graphql", json=TYPENAME, headers=origin)
        assert_refused(refused)
        assert refused.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert refused.headers["x-request-id"]
        assert (await other.post("/graphql", json=TYPENAME)).status_code == 200
        assert (await flooder.get("/healthz")).status_code == 200  # probes are never limited


async def test_forwarded_for_counts_only_from_a_trusted_proxy(make_app: AppFactory) -> None:
    # No trusted proxies: a client naming another address in the header is still itself.
    app = await make_app(rate_limit_ip="3/minute")
    for n in range(3):
        async with client(app, f"198.51.100.{n}") as spoofing:
            assert (await spoofing.post("/graphql", json=TYPENAME)).status_code == 200
    async with client(app, "198.51.100.99") as spoofing:
        assert_refused(await spoofing.post("/graphql", json=TYPENAME))

    # Behind the proxy, only its right-hand entry counts: what the client prepends does not.
    app = await make_app(rate_limit_ip="3/minute", trusted_proxies=PROXY)
    for n in range(3):
        async with client(app, f"10.9.9.{n}, 203.0.113.7") as spoofing:
            assert (await spoofing.post("/graphql", json=TYPENAME)).status_code == 200
    async with client(app, "10.9.9.99, 203.0.113.7") as spoofing:
        assert_refused(await spoofing.post("/graphql", json=TYPENAME))


async def test_each_account_has_its_own_budget_from_any_ip(make_app: AppFactory) -> None:
    app = await make_app(rate_limit_account="3/minute", trusted_proxies=PROXY)
    async with client(app) as http:
        api = GraphQLClient(http)
        ada = await api.ok(REGISTER, {"email": "ada@x.org", "password": PASSWORD, "name": "A"})
        bob = await api.ok(REGISTER, {"email": "bob@x.org", "password": PASSWORD, "name": "B"})
    ada_auth = {"authorization": f"Bearer {ada['register']['accessToken']}"}
    bob_auth = {"authorization": f"Bearer {bob['register']['accessToken']}"}
    for n in range(3):
        async with client(app, f"203.0.113.{n}") as http:
            assert (await http.post("/graphql", json=ME, headers=ada_auth)).status_code == 200
    async with client(app, "203.0.113.50") as http:
        assert_refused(await http.post("/graphql", json=ME, headers=ada_auth))
        answer = await http.post("/graphql", json=ME, headers=bob_auth)
        assert answer.status_code == 200 and answer.json()["data"]["me"] is not None
        # A forged token names no account: it spends only its IP's budget.
        forged = {"authorization": "Bearer " + ada["register"]["accessToken"][:-4] + "AAAA"}
        assert (await http.post("/graphql", json=ME, headers=forged)).status_code == 200


MUTATIONS: dict[str, tuple[str, Any]] = {
    "rate_limit_register": (
        REGISTER,
        lambda n: {"email": f"u{n}@x.org", "password": PASSWORD, "name": "U"},
    ),
    "rate_limit_login": (
        "mutation L($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
        lambda n: {"e": f"nobody{n}@x.org", "p": PASSWORD},
    ),
    "rate_limit_refresh_token": (
        "mutation R($t: String!) { refreshToken(refreshToken: $t) { accessToken } }",
        lambda n: {"t": f"not-a-token-{n}"},
    ),
    "rate_limit_request_device_pairing": (
        'mutation P($s: String!) { requestDevicePairing(model: "holo-1", serial: $s, '
        "capabilities: []) { deviceCode } }",
        lambda n: {"s": f"SN{n}"},
    ),
    "rate_limit_poll_device_pairing": (
        "mutation P($c: String!) { pollDevicePairing(deviceCode: $c) { status } }",
        lambda n: {"c": f"no-such-code-{n}"},
    ),
}


@pytest.mark.parametrize("setting", sorted(MUTATIONS))
async def test_sensitive_mutations_have_tight_per_ip_limits(
    make_app: AppFactory, setting: str
) -> None:
    document, variables = MUTATIONS[setting]
    app = await make_app(**{setting: "2/minute"}, trusted_proxies=PROXY)
    async with client(app, "203.0.113.9") as http, client(app, "203.0.113.10") as other:
        for n in range(2):
            body = (
                await http.post("/graphql", json={"query": document, "variables": variables(n)})
            ).json()
            assert (
                not body.get("errors") or body["errors"][0]["extensions"]["code"] != "RATE_LIMITED"
            )
        # The mutation is refused inside a normal GraphQL answer (200): other fields could run.
        answer = await http.post("/graphql", json={"query": document, "variables": variables(3)})
        assert answer.status_code == 200
        [error] = answer.json()["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert 1 <= error["extensions"]["retryAfter"] <= 60
        body = (
            await other.post("/graphql", json={"query": document, "variables": variables(4)})
        ).json()
        assert not body.get("errors") or body["errors"][0]["extensions"]["code"] != "RATE_LIMITED"


async def test_two_app_instances_on_redis_share_the_limits(
    make_app: AppFactory, settings: Settings
) -> None:
    redis_url = redis_url_or_none()
    if redis_url is None:
        pytest.skip("Redis is not reachable")
    shared = {
        "shared_state_url": redis_url,
        "broadcast_namespace": f"t{free_port()}-{id(settings)}:",  # this test's keys alone
        "rate_limit_ip": "4/minute",
        "trusted_proxies": PROXY,
    }
    first, second = await make_app(**shared), await make_app(**shared)
    async with client(first, "203.0.113.20") as a, client(second, "203.0.113.20") as b:
        for http in (a, b, a, b):
            assert (await http.post("/graphql", json=TYPENAME)).status_code == 200
        assert_refused(await a.post("/graphql", json=TYPENAME))
        assert_refused(await b.post("/graphql", json=TYPENAME))


async def test_limits_fail_open_while_the_shared_store_is_down(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens there: requests are served, unlimited, and a warning says why.
    app = await make_app(
        shared_state_url=f"redis://127.0.0.1:{free_port()}/0", rate_limit_ip="1/minute"
    )
    with caplog.at_level(logging.WARNING, logger="holomate.ratelimit"):
        async with client(app) as http:
            for _ in range(3):
                assert (await http.post("/graphql", json=TYPENAME)).status_code == 200
    assert "rate limits not enforced" in caplog.text
