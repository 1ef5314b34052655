"""What /metrics probes at each scrape (``holomate_dependency_up``): the database always, Redis
when the events go through it, each along the path the app really uses (a SELECT 1 on the
app's pool; the replay log's tail through the hub), so "up" means "usable by this process"."""

from __future__ import annotations

from sqlalchemy import text

from api.metrics import Metrics
from api.settings import Settings
from context.state import AppState

PROBE_CHANNEL = "holomate:probe"  # read, never written


def watch_dependencies(metrics: Metrics, settings: Settings, state: AppState) -> None:
    async def database() -> None:
        async with state.sessionmaker() as session:
            await session.execute(text("SELECT 1"))

    metrics.watch_dependency("database", database)
    if settings.broadcast_url.startswith(("redis://", "rediss://")):

        async def redis() -> None:
            assert state.hub is not None
            await state.hub.tail(PROBE_CHANNEL)

        metrics.watch_dependency("redis", redis)
