"""A clean database per test run: a temp SQLite file, or a fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from store.metadata import target_metadata
from store.migrate import upgrade

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def requested_url() -> str:
    return os.environ.get("HOLOMATE_TEST_DATABASE_URL", "sqlite")


@contextmanager
def fresh_database() -> Iterator[str]:
    """Yield the URL of a migrated, empty database that is removed afterwards."""
    requested = requested_url()
    if requested.startswith("postgresql"):
        with _postgres(requested) as url:
            upgrade(url)
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="holomate-test-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'test.db'}"
        upgrade(url)
        yield url


@contextmanager
def _postgres(base_url: str) -> Iterator[str]:
    name = f"holomate_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = base_url.replace("postgresql+asyncpg", "postgresql")

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield base_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def truncate_all(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(target_metadata.sorted_tables)]
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            joined = ", ".join(f'"{t}"' for t in tables)
            await conn.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
            return
        for table in tables:
            await conn.execute(text(f'DELETE FROM "{table}"'))
