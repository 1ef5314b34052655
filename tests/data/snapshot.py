"""Everything a server keeps, read back as plain values to compare: every row of every table
(the replay log's SQLite file included) and every stored file."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from store.db import events_file, make_engine, sqlite_file

Rows = dict[str, list[tuple[Any, ...]]]


@dataclass(frozen=True)
class Snapshot:
    rows: Rows
    events: Rows
    files: dict[str, bytes]

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.rows.items() if rows}


async def take(database_url: str, storage_dir: Path) -> Snapshot:
    path = sqlite_file(database_url)
    events = await asyncio.to_thread(_sqlite_rows, events_file(path)) if path else {}
    files = await asyncio.to_thread(_files, storage_dir)
    return Snapshot(await _rows(database_url), events, files)


async def _rows(database_url: str) -> Rows:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
            found = {}
            for table in sorted(tables):
                rows = (await conn.execute(text(f'SELECT * FROM "{table}"'))).all()
                found[table] = sorted((tuple(row) for row in rows), key=repr)
    finally:
        await engine.dispose()
    return found


def _sqlite_rows(path: str) -> Rows:
    if not Path(path).is_file():
        return {}
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in sorted(names)
        }
    finally:
        conn.close()


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
