"""Objects that live only in the database, never in the models: memories' search.

The memories' FTS5 table (and the shadow tables SQLite makes for it) and PostgreSQL's
generated ``search_vector`` column with its GIN index, and the (owner, companion, importance)
index recall reads with, are created by migration 0005 and used by SQL in services/memories.
Comparing models with migrations (Alembic's ``include_object``, used by
store/migrations/env.py and the hygiene test) looks past exactly these names.
"""

from __future__ import annotations

from typing import Any

DATABASE_ONLY_TABLE_PREFIX = "memories_fts"
DATABASE_ONLY_NAMES = frozenset(
    {"search_vector", "ix_memories_search_vector", "ix_memories_owner_companion_importance"}
)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic hook: False for the database-only search objects, True for everything else."""
    if not reflected or name is None:
        return True
    if type_ == "table" and name.startswith(DATABASE_ONLY_TABLE_PREFIX):
        return False
    return not (type_ in ("column", "index") and name in DATABASE_ONLY_NAMES)
