"""All tables Alembic manages: the models plus the replay log of live events."""

from __future__ import annotations

import store.models  # noqa: F401  (registers the models on Base.metadata)
from pipeline.broadcast.log_sql import event_log_table
from store.base import Base

target_metadata = Base.metadata
event_log = event_log_table(target_metadata)
