"""The database going away answers a retryable SERVICE_UNAVAILABLE, and the server reconnects.

The server reaches PostgreSQL through a proxy the test cuts (resetting every connection and
refusing new ones, as a restart does), so the PostgreSQL other tests share stays up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import broadcast_env
from tests.realtime.helpers import TERMINAL, setup_conversation, subscribed_then_sent
from tests.support.server import LiveServer, live_server
from tests.support.tcp_proxy import TcpProxy, tcp_proxy

pytestmark = pytest.mark.postgres

ME = "{ me { email } }"
CREATE = 'mutation { createCompanion(input: {name: "Mira"}) { id } }'
LOGIN = 'mutation { login(email: "ada@example.com", password: "correct horse") { accessToken } }'
REGISTER = (
    'mutation { register(email: "ada@example.com", password: "correct horse", '
    'displayName: "Ada") { accessToken } }'
)


@contextmanager
def behind_proxy(
    database_url: str, storage: Path, **env: str
) -> Iterator[tuple[LiveServer, TcpProxy]]:
    """A live server reaching PostgreSQL through a proxy the test can cut."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite is a file: there is no connection to lose")
    url = urlsplit(database_url)
    with tcp_proxy((url.hostname or "127.0.0.1", url.port or 5432)) as proxy:
        through_proxy = url._replace(netloc=f"{url.username}@127.0.0.1:{proxy.port}").geturl()
        with live_server(through_proxy, storage, **{**broadcast_env(), **env}) as server:
            yield server, proxy


@pytest.fixture
def proxied(
    database_url: str, clean_db: None, tmp_path: Path
) -> Iterator[tuple[LiveServer, TcpProxy]]:
    with behind_proxy(database_url, tmp_path / "storage") as running:
        yield running


def post(server: LiveServer, query: str, token: str | None = None) -> dict[str, object]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(server.graphql_url, json={"query": query}, headers=headers, timeout=30)
    assert response.status_code < 500, response.text
    body: dict[str, object] = response.json()
    return body


def error_extensions(body: dict[str, object]) -> list[dict[str, object]]:
    errors = body.get("errors")
    assert isinstance(errors, list), body
    return [e["extensions"] for e in errors]


def test_requests_while_the_database_is_down_answer_a_retryable_code_then_succeed(
    proxied: tuple[LiveServer, TcpProxy],
) -> None:
    server, proxy = proxied
    token = post(server, REGISTER)["data"]["register"]["accessToken"]  # type: ignore[index]

    proxy.stop_listening()
    proxy.reset_all()  # PostgreSQL went away: open connections reset, new ones refused
    # With a token (checked against the database first) and without (the resolver reads it).
    for query, bearer in ((ME, token), (CREATE, token), (LOGIN, None)):
        extensions = error_extensions(post(server, query, bearer))
        assert [(e["code"], e.get("retryable")) for e in extensions] == [
            ("SERVICE_UNAVAILABLE", True)
        ]

    proxy.listen()  # back up
    assert post(server, ME, token) == {"data": {"me": {"email": "ada@example.com"}}}


def test_after_the_database_dropped_every_connection_the_next_request_succeeds(
    proxied: tuple[LiveServer, TcpProxy],
) -> None:
    server, proxy = proxied
    token = post(server, REGISTER)["data"]["register"]["accessToken"]  # type: ignore[index]
    assert "errors" not in post(server, CREATE, token)

    proxy.reset_all()  # a restart between requests: the pool's connections are all dead

    assert post(server, ME, token) == {"data": {"me": {"email": "ada@example.com"}}}


@pytest.fixture
def proxied_fast(
    database_url: str, clean_db: None, tmp_path: Path
) -> Iterator[tuple[LiveServer, TcpProxy]]:
    """The offline model answers at once, so the reply ends while the database is away."""
    env = {"HOLOMATE_OFFLINE_LLM_WORD_DELAY_S": "0"}
    with behind_proxy(database_url, tmp_path / "storage", **env) as running:
        yield running


async def test_a_reply_that_ends_while_the_database_is_away_is_saved_once_it_is_back(
    proxied_fast: tuple[LiveServer, TcpProxy],
) -> None:
    server, proxy = proxied_fast
    world = setup_conversation(server)
    async with subscribed_then_sent(server, world, "Hello!") as stream:
        await stream.until({"ReplyStarted"})
        proxy.stop_listening()
        proxy.reset_all()
        await asyncio.sleep(3)  # the reply ends meanwhile, and cannot be saved
        proxy.listen()
        event = await stream.until(TERMINAL)
    assert event["__typename"] == "ReplyCompleted", event
    assert event["message"]["status"] == "COMPLETE" and event["message"]["text"]
