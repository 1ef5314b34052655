"""CPU per event-log append on SQLite: a table of the app's database through SQLAlchemy's
asyncio layer (SqlEventLog), and the log's own file written on the loop's thread
(SqliteEventLog), one at a time and 50 at once (replies publishing together).

    .venv/bin/python -m bench.log_append [--appends 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from sqlalchemy import MetaData

from pipeline.broadcast.log_base import EventLog
from pipeline.broadcast.log_sql import SqlEventLog, event_log_table
from pipeline.broadcast.log_sqlite import SqliteEventLog
from store.db import make_engine, make_sessionmaker

PAYLOAD = '{"type":"MessageDelta","seq":3,"text":"' + "word " * 40 + '"}'


async def measure(log: EventLog, appends: int, at_once: int) -> float:
    """CPU µs per append (this process: the loop and the writer thread)."""

    async def one_stream(k: int) -> None:
        for i in range(appends // at_once):
            await log.append(f"conversation:{k}:{i % 5}", PAYLOAD)

    await one_stream(-1)  # warm: connections, statement caches
    started = time.process_time()
    await asyncio.gather(*(one_stream(k) for k in range(at_once)))
    return (time.process_time() - started) / appends * 1e6


async def main(appends: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "log.db")
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        table = event_log_table(MetaData())
        async with engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
        sessions = make_sessionmaker(engine)
        logs: dict[str, EventLog] = {
            "SqlEventLog (SQLAlchemy asyncio)": SqlEventLog(sessions, table=table),
            "SqliteEventLog (own file, on the loop)": SqliteEventLog(str(Path(tmp) / "ev.db")),
        }
        for name, log in logs.items():
            for at_once in (1, 50):
                cpu = await measure(log, appends, at_once)
                print(f"{name:41s} {at_once:3d} at once: {cpu:7.0f} µs CPU per append")
            await log.aclose()
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=3000)
    asyncio.run(main(parser.parse_args().appends))
