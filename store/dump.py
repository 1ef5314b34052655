"""Whole-database snapshots for ``holomate backup`` and ``holomate restore``.

SQLite: the online backup API copies a consistent snapshot while the server keeps writing (a
read transaction, WAL included), into a single self-contained file; a restore copies it back
the same way, page by page under SQLite's own locks, so no ``-wal`` file is left behind to
replay over it. The replay log's own file beside the database (``store.db.events_file``) is
copied alongside when it exists.

PostgreSQL: ``pg_dump --format=custom`` (consistent: one repeatable-read transaction) and
``pg_restore --clean --if-exists --single-transaction``, so a failed restore changes nothing.
The client tools must be at least the server's major version (pg_dump refuses an older
server's newer format); ``./dev setup`` installs Debian's ``postgresql-client``. Connection
settings travel as ``PG*`` environment variables, never on a command line others can read.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from alembic.script import ScriptDirectory
from sqlalchemy import make_url, text

from store.db import events_file, make_engine, sqlite_file
from store.migrate import alembic_config

DATABASE_SQLITE = "database.sqlite3"
EVENTS_SQLITE = "events.sqlite3"
DATABASE_PG = "database.pgdump"


class DumpError(Exception):
    """The database could not be saved or restored; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    engine: Literal["sqlite", "postgresql"]
    files: tuple[str, ...]  # written into the backup folder, relative to it


def dump(database_url: str, folder: Path) -> Snapshot:
    path = sqlite_file(database_url)
    if path is not None:
        if not Path(path).is_file():
            raise DumpError(f"no SQLite database at {path}")
        _sqlite_copy(path, folder / DATABASE_SQLITE, single_file=True)
        files = [DATABASE_SQLITE]
        if Path(events_file(path)).is_file():
            _sqlite_copy(events_file(path), folder / EVENTS_SQLITE, single_file=True)
            files.append(EVENTS_SQLITE)
        return Snapshot("sqlite", tuple(files))
    _pg("pg_dump", database_url, "--format=custom", f"--file={folder / DATABASE_PG}")
    return Snapshot("postgresql", (DATABASE_PG,))


def restore(database_url: str, folder: Path, snapshot: Snapshot) -> None:
    path = sqlite_file(database_url)
    if (path is None) != (snapshot.engine == "postgresql"):
        raise DumpError(
            f"the backup holds a {snapshot.engine} database; HOLOMATE_DATABASE_URL names another "
            "engine (move data between engines with an export, not a restore)"
        )
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(str(folder / DATABASE_SQLITE), Path(path), single_file=False)
        if EVENTS_SQLITE in snapshot.files:
            _sqlite_copy(str(folder / EVENTS_SQLITE), Path(events_file(path)), single_file=False)
        return
    database = make_url(database_url).database or ""
    _pg(
        "pg_restore",
        database_url,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={database}",
        str(folder / DATABASE_PG),
    )


async def schema_revision(database_url: str) -> str | None:
    """The Alembic revision the database is at (None before the first migration)."""
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            value = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()
    return str(value) if value is not None else None


def known_revision(revision: str) -> bool:
    """True if this code knows ``revision`` (a backup from a newer release is not restored)."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return any(script.revision == revision for script in scripts.walk_revisions())


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _sqlite_copy(source: str, target: Path, *, single_file: bool) -> None:
    """Copy ``source`` into ``target`` with the backup API. ``single_file``: the copy leaves
    WAL mode, so the backup is one file that never needs its ``-wal`` beside it."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
        if single_file:
            dst.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as e:
        raise DumpError(f"copying SQLite {source} to {target} failed: {e}") from e
    finally:
        dst.close()
        src.close()


def _pg(tool: str, database_url: str, *args: str) -> None:
    binary = shutil.which(tool)
    if binary is None:
        raise DumpError(f"{tool} not found: install PostgreSQL's client tools (postgresql-client)")
    result = subprocess.run(
        [binary, *args], env=_pg_env(database_url), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        hint = ""
        if "version mismatch" in result.stderr:
            hint = f" ({tool} must be at least the server's major version)"
        raise DumpError(f"{tool} failed{hint}: {result.stderr.strip()}")


def _pg_env(database_url: str) -> dict[str, str]:
    url = make_url(database_url)
    env = {**os.environ, "PGDATABASE": url.database or "", "PGCONNECT_TIMEOUT": "10"}
    for name, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
    ):
        if value is not None:
            env[name] = str(value)
    ssl = url.query.get("sslmode") or url.query.get("ssl")  # libpq's name, asyncpg's name
    if isinstance(ssl, str):
        env["PGSSLMODE"] = {"true": "require"}.get(ssl, ssl)
    return env
