"""All tables Alembic manages: the models plus the replay log of live events."""

from __future__ import annotations

import store.models  # noqa: F401  (registers the models on Base.metadata)
from store.base import Base

target_metadata = Base.metadata
