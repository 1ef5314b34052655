"""full-text search over memories: SQLite FTS5, PostgreSQL tsvector + GIN

Recall ranks a person's memories by relevance to the current message (services/memories).
SQLite gets an external-content FTS5 table over ``memories.text`` kept in step by triggers;
PostgreSQL a stored generated ``tsvector`` column with a GIN index. Neither is in the models
(store/database_only.py tells the model/migration comparison to look past them), nor is the
index recall reads a person's most important memories with.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 15:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UP = (
    # porter: "likes" finds "like"; remove_diacritics: "cafe" finds "café".
    "CREATE VIRTUAL TABLE memories_fts USING fts5(text, content='memories', content_rowid='id',"
    " tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER memories_fts_ai AFTER INSERT ON memories BEGIN"
    " INSERT INTO memories_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER memories_fts_ad AFTER DELETE ON memories BEGIN"
    " INSERT INTO memories_fts(memories_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER memories_fts_au AFTER UPDATE OF text ON memories BEGIN"
    " INSERT INTO memories_fts(memories_fts, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO memories_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO memories_fts(memories_fts) VALUES ('rebuild')",
)
# Recall's background candidates, a person's most important memories, without a sort of all
# their rows (bench/memory_recall.py).
_IMPORTANCE_UP = (
    "CREATE INDEX ix_memories_owner_companion_importance"
    " ON memories (owner_id, companion_id, importance)"
)
_IMPORTANCE_DOWN = "DROP INDEX IF EXISTS ix_memories_owner_companion_importance"
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS memories_fts_au",
    "DROP TRIGGER IF EXISTS memories_fts_ad",
    "DROP TRIGGER IF EXISTS memories_fts_ai",
    "DROP TABLE IF EXISTS memories_fts",
)
_POSTGRES_UP = (
    "ALTER TABLE memories ADD COLUMN search_vector tsvector"
    " GENERATED ALWAYS AS (to_tsvector('english', text)) STORED",
    "CREATE INDEX ix_memories_search_vector ON memories USING gin (search_vector)",
)
_POSTGRES_DOWN = (
    "DROP INDEX IF EXISTS ix_memories_search_vector",
    "ALTER TABLE memories DROP COLUMN IF EXISTS search_vector",
)


def _run(statements: dict[str, tuple[str, ...]]) -> None:
    for sql in statements.get(op.get_bind().dialect.name, ()):
        op.execute(sql)


def upgrade() -> None:
    _run({"sqlite": _SQLITE_UP, "postgresql": _POSTGRES_UP})
    op.execute(_IMPORTANCE_UP)


def downgrade() -> None:
    op.execute(_IMPORTANCE_DOWN)
    _run({"sqlite": _SQLITE_DOWN, "postgresql": _POSTGRES_DOWN})
