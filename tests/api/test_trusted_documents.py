"""Documents by hash (the APQ wire format) on every transport, and trusted documents.

A client's build emits a manifest of its documents ({sha256: document}); a server in trusted
mode runs those and no others, by hash or in full. In open mode (development) any document
runs, and a client may register one by hash as Apollo's and urql's persisted-query links do:
hash alone -> PERSISTED_QUERY_NOT_FOUND -> hash and document -> hash alone. On the PostgreSQL +
Redis pass a registration made on one process is found on another.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from services.trusted_documents import load_manifests
from tests.conftest import RUN_NAMESPACE

HELLO = "query Hello { __typename }"
SHOUT = "query Shout { __typename }"  # listed nowhere
TRANSPORT, LEGACY = "graphql-transport-ws", "graphql-ws"


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(document)}}


def settings_for(database_url: str, folder: Path, **changes: Any) -> Settings:
    manifest = folder / "manifest.json"
    manifest.write_text(json.dumps({sha(HELLO): HELLO}))
    return Settings(
        env="test",
        database_url=database_url,
        migrate_on_start=False,
        storage_dir=folder / "storage",
        trusted_documents=str(manifest),
        rate_limit_ws_connect="",
        # Registrations shared through Redis on the PostgreSQL + Redis pass.
        shared_state_url=os.environ.get("HOLOMATE_TEST_BROADCAST_URL", ""),
        broadcast_namespace=RUN_NAMESPACE,
        **changes,
    )


@contextmanager
def running(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def trusted(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("trusted")
    with running(settings_for(database_url, folder, documents="trusted")) as client:
        yield client


def post(client: TestClient, **body: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/graphql", json=body)
    return response.status_code, response.json()


def code_of(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def over_socket(client: TestClient, protocol: str, *payloads: dict[str, Any]) -> list[Any]:
    """Each payload as one operation on one socket: its data, or its errors' codes."""
    start = "subscribe" if protocol == TRANSPORT else "start"
    answers: list[Any] = []
    with client.websocket_connect("/graphql", subprotocols=[protocol]) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        assert ws.receive_json()["type"] == "connection_ack"
        for n, payload in enumerate(payloads):
            ws.send_json({"type": start, "id": str(n), "payload": payload})
            message = ws.receive_json()
            while message["type"] == "ka":
                message = ws.receive_json()
            if message["type"] in ("next", "data"):
                answers.append(message["payload"].get("data") or message["payload"])
            else:
                errors = message["payload"]
                errors = errors if isinstance(errors, list) else [errors]
                answers.append([e["extensions"]["code"] for e in errors])
            if message["type"] != "error":  # then its complete
                while ws.receive_json()["type"] != "complete":
                    pass
    return answers


@pytest.mark.one_backend
def test_an_app_runs_its_listed_documents_by_hash_over_get_and_post(trusted: TestClient) -> None:
    status, body = post(trusted, extensions=persisted(HELLO))
    assert status == 200 and body["data"] == {"__typename": "Query"}
    params = {"extensions": json.dumps(persisted(HELLO))}
    response = trusted.get("/graphql", params=params, headers={"accept": "application/json"})
    assert response.status_code == 200 and response.json()["data"] == {"__typename": "Query"}
    # The full text of a listed document runs too (a client that sends no hash).
    assert post(trusted, query=HELLO)[1]["data"] == {"__typename": "Query"}


@pytest.mark.one_backend
@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
def test_an_app_runs_its_listed_documents_by_hash_over_both_socket_protocols(
    trusted: TestClient, protocol: str
) -> None:
    by_hash = {"extensions": persisted(HELLO)}
    both = {"query": HELLO, "extensions": persisted(HELLO)}
    unknown = {"extensions": persisted(SHOUT)}
    stranger = {"query": SHOUT}
    # Refusals answer that operation alone: the socket goes on to run the next one.
    assert over_socket(trusted, protocol, by_hash, unknown, stranger, both) == [
        {"__typename": "Query"},
        ["PERSISTED_QUERY_NOT_FOUND"],
        ["DOCUMENT_NOT_TRUSTED"],
        {"__typename": "Query"},
    ]


@pytest.mark.one_backend
def test_trusted_mode_refuses_every_document_its_apps_do_not_ship(trusted: TestClient) -> None:
    status, body = post(trusted, extensions=persisted(SHOUT))
    assert status == 400 and code_of(body) == "PERSISTED_QUERY_NOT_FOUND"
    assert "send it again with its query" in body["errors"][0]["message"]
    status, body = post(trusted, query=SHOUT, extensions=persisted(SHOUT))  # no registering
    assert status == 400 and code_of(body) == "DOCUMENT_NOT_TRUSTED"
    status, body = post(trusted, query=SHOUT)
    assert status == 400 and code_of(body) == "DOCUMENT_NOT_TRUSTED"
    assert body["errors"][0]["extensions"]["sha256Hash"] == sha(SHOUT)
    # A one-character change is another document.
    assert code_of(post(trusted, query=HELLO + " ")[1]) == "DOCUMENT_NOT_TRUSTED"


@pytest.mark.one_backend
def test_a_hash_that_is_not_its_documents_is_refused(trusted: TestClient) -> None:
    status, body = post(trusted, query=SHOUT, extensions=persisted(HELLO))
    assert status == 400 and code_of(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "extensions.persistedQuery.sha256Hash"


@pytest.mark.one_backend
@pytest.mark.parametrize(
    "extensions",
    [
        {"persistedQuery": "abc"},
        {"persistedQuery": {"version": 2, "sha256Hash": sha(HELLO)}},
        {"persistedQuery": {"version": True, "sha256Hash": sha(HELLO)}},
        {"persistedQuery": {"version": "1", "sha256Hash": sha(HELLO)}},
        {"persistedQuery": {"version": 1}},
        {"persistedQuery": {"version": 1, "sha256Hash": 12}},
        {"persistedQuery": {"version": 1, "sha256Hash": "zz" * 32}},
        {"persistedQuery": {"version": 1, "sha256Hash": "a" * 50_000}},
        ["persistedQuery"],
    ],
)
def test_malformed_persisted_query_extensions_get_a_stable_code(
    trusted: TestClient, extensions: Any
) -> None:
    status, body = post(trusted, query=HELLO, extensions=extensions)
    assert status == 400 and code_of(body) == "BAD_REQUEST", body
    if isinstance(extensions, dict):  # on a socket, that operation alone is refused
        payload = {"extensions": extensions}
        assert over_socket(trusted, TRANSPORT, payload) == [["BAD_REQUEST"]]


def test_an_open_server_learns_documents_as_apollo_registers_them(
    database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url, tmp_path, documents="open")
    shared = bool(settings.shared_state_url)
    document = f"query Fresh{os.getpid()} {{ __typename }}"  # new to the shared store
    with running(settings) as first, running(settings) as second:
        status, body = post(first, extensions=persisted(document))
        assert status == 400 and code_of(body) == "PERSISTED_QUERY_NOT_FOUND"
        status, body = post(first, query=document, extensions=persisted(document))
        assert status == 200 and body["data"] == {"__typename": "Query"}
        later = second if shared else first  # another process, when they share Redis
        assert post(later, extensions=persisted(document))[1]["data"] == {"__typename": "Query"}
        assert over_socket(later, LEGACY, {"extensions": persisted(document)}) == [
            {"__typename": "Query"}
        ]
        # Open runs any document in full, listed or not.
        assert post(first, query=SHOUT)[1]["data"] == {"__typename": "Query"}


@pytest.mark.one_backend
def test_production_runs_only_trusted_documents_unless_opened(tmp_path: Path) -> None:
    secret = "x" * 40
    assert Settings(env="production", secret_key=secret).documents_policy == "trusted"  # type: ignore[arg-type]
    opened = Settings(env="production", secret_key=secret, documents="open")  # type: ignore[arg-type]
    assert opened.documents_policy == "open"
    assert Settings(env="development").documents_policy == "open"  # GraphiQL keeps full access


@pytest.mark.one_backend
def test_a_manifest_whose_entry_is_not_its_hash_fails_the_start(tmp_path: Path) -> None:
    bent = tmp_path / "bent.json"
    bent.write_text(json.dumps({sha(HELLO): SHOUT}))
    with pytest.raises(ValueError, match="does not hash to it"):
        load_manifests([bent])
    prefixed = tmp_path / "prefixed.json"  # the client preset's default spelling
    prefixed.write_text(json.dumps({f"sha256:{sha(HELLO)}": HELLO}))
    assert load_manifests([prefixed]) == {sha(HELLO): HELLO}
