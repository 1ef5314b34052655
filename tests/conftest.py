"""Shared fixtures: one migrated database per run, emptied between tests; the app over httpx."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from api.settings import RATE_SETTINGS, Settings
from store.db import make_engine
from tests.support.databases import fresh_database, truncate_all
from tests.support.graphql import GraphQLClient
from tests.support.server import LiveServer, live_server

# The suite sends most requests from 127.0.0.1: request rate limits are generous unless a test
# sets its own (tests/api/test_rate_limits.py); failed-login budgets keep their defaults. Set in
# the environment, so the servers tests start inherit them too.
for _name in sorted(RATE_SETTINGS):
    if _name.startswith("rate_limit_"):
        os.environ.setdefault(f"HOLOMATE_{_name.upper()}", "100000/second")
# Replies come from the deterministic persona responder, never the local model's server (only
# tests/pipeline/test_local_model_server.py starts it, on purpose).
os.environ["HOLOMATE_LLM_ENGINE"] = "responder"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        migrate_on_start=False,
        password_time_cost=1,
        password_memory_kib=8 * 1024,
        storage_dir=tmp_path / "storage",
    )


@pytest.fixture
async def clean_db(database_url: str) -> AsyncIterator[None]:
    engine = make_engine(database_url)
    await truncate_all(engine)
    await engine.dispose()
    yield


@pytest.fixture
async def app(settings: Settings, clean_db: None) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


@pytest.fixture
def server(database_url: str, clean_db: None, tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(database_url, tmp_path / "storage", **broadcast_env()) as running:
        yield running


# Test workers (and concurrent runs) share one Redis: each run gets channels of its own.
RUN_NAMESPACE = f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{uuid.uuid4().hex[:8]}:"


def broadcast_env() -> dict[str, str]:
    """The run against PostgreSQL also fans out through Redis (HOLOMATE_TEST_BROADCAST_URL)."""
    url = os.environ.get("HOLOMATE_TEST_BROADCAST_URL")
    if not url:
        return {}
    return {"HOLOMATE_BROADCAST_URL": url, "HOLOMATE_BROADCAST_NAMESPACE": RUN_NAMESPACE}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL + Redis pass skips what the SQLite pass already proved engine-free."""
    if os.environ.get("HOLOMATE_TEST_DATABASE_URL") is None:
        return
    once = [item for item in items if _engine_free(item)]
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = [item for item in items if not _engine_free(item)]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Fail at once, not with flaky tests, if xdist's loadgroup stops grouping (a test kept
    from its group runs beside the tests it must not share a worker with)."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    lost = [
        item.nodeid
        for item in session.items
        if item.get_closest_marker("xdist_group") is not None and "@" not in item.nodeid
    ]
    if lost:
        raise pytest.UsageError(
            f"--dist loadgroup did not group {len(lost)} tests (e.g. {lost[0]}): this pytest "
            "and pytest-xdist do not work together (pytest-xdist#1386); see pyproject.toml"
        )


# The pipeline is a leaf: nothing under it reads the database or the configured broadcast (its
# Redis-backed parts test both of their implementations in either pass).
ENGINE_FREE_DIRS = (Path(__file__).parent / "pipeline",)


def _engine_free(item: pytest.Item) -> bool:
    return item.get_closest_marker("one_backend") is not None or any(
        item.path.is_relative_to(folder) for folder in ENGINE_FREE_DIRS
    )
