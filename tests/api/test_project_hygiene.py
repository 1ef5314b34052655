"""Guards for things that silently rot: the exported schema, migrations, package names."""

from __future__ import annotations

import importlib
import importlib.metadata
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from api.graphql_schema import export_sdl
from store.database_only import include_object
from store.db import make_engine
from store.metadata import target_metadata
from store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
OUR_PACKAGES = (
    "api",
    "context",
    "schema",
    "resolvers",
    "live",
    "pipeline",
    "store",
    "services",
    "tests",
)


def test_schema_graphql_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == export_sdl(), "schema.graphql drifted: run `holomate export-schema`"


def test_no_installed_distribution_shadows_our_top_level_packages() -> None:
    owners = importlib.metadata.packages_distributions()
    for name in OUR_PACKAGES:
        foreign = [d for d in owners.get(name, []) if d != "holomate-server"]
        assert not foreign, f"{foreign} also install a top-level '{name}'"
        module = importlib.import_module(name)
        assert Path(module.__file__ or "").resolve().is_relative_to(ROOT), module.__file__


def test_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.connect() as conn:
        diff = compare_metadata(_context(conn), target_metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; generate a migration: {diff}"


async def test_migrations_build_exactly_the_models_on_the_test_database(database_url: str) -> None:
    # The run on PostgreSQL compares there too (its full-text column and index are database-only).
    engine = make_engine(database_url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(lambda c: compare_metadata(_context(c), target_metadata))
    await engine.dispose()
    assert diff == [], f"models and migrations differ; generate a migration: {diff}"


def _context(conn: Connection) -> MigrationContext:
    return MigrationContext.configure(
        conn, opts={"include_object": include_object, "compare_type": True}
    )
