"""memories, lorebook entries, character card fields, conversation summaries

``memories``: what a companion remembers about a person (services/memories). ``lorebook_entries``
and the new ``companions`` columns hold Character Card fields; ``conversations.summary`` the
running summary of turns folded out of the prompt.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = store.base.UTCDateTime(timezone=True)
_COMPANION_TEXT = (
    "personality",
    "scenario",
    "example_dialogue",
    "system_prompt",
    "post_history_instructions",
)


def upgrade() -> None:
    with op.batch_alter_table("companions", schema=None) as batch_op:
        batch_op.alter_column(
            "greeting", existing_type=sa.String(length=1000), type_=sa.Text(), existing_nullable=False
        )
        for name in _COMPANION_TEXT:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("alternate_greetings", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("card_data", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("picture_key", sa.String(length=256), nullable=True))
        batch_op.add_column(
            sa.Column("memory_enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("summary_through_id", _BIG_ID, nullable=True))
        batch_op.add_column(sa.Column("summary_updated_at", _WHEN, nullable=True))

    op.create_table(
        "lorebook_entries",
        sa.Column("companion_id", _BIG_ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("keys", sa.JSON(), nullable=False),
        sa.Column("secondary_keys", sa.JSON(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("constant", sa.Boolean(), nullable=False),
        sa.Column("selective", sa.Boolean(), nullable=False),
        sa.Column("case_sensitive", sa.Boolean(), nullable=False),
        sa.Column("insertion_order", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("position", sa.String(length=32), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["companion_id"],
            ["companions.id"],
            name=op.f("fk_lorebook_entries_companion_id_companions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lorebook_entries")),
    )
    with op.batch_alter_table("lorebook_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lorebook_entries_companion_id"), ["companion_id"], unique=False
        )

    op.create_table(
        "memories",
        sa.Column("owner_id", _BIG_ID, nullable=False),
        sa.Column("companion_id", _BIG_ID, nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=160), nullable=True),
        sa.Column("importance", sa.Float(), nullable=False),
        sa.Column(
            "origin",
            sa.Enum("extracted", "model", "person", name="memoryorigin", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("conversation_id", _BIG_ID, nullable=True),
        sa.Column("message_id", _BIG_ID, nullable=True),
        sa.Column("last_recalled_at", _WHEN, nullable=True),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_model", sa.String(length=128), nullable=True),
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["companion_id"],
            ["companions.id"],
            name=op.f("fk_memories_companion_id_companions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_memories_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_memories_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_memories_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memories")),
    )
    with op.batch_alter_table("memories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memories_companion_id"), ["companion_id"], unique=False)
        batch_op.create_index(
            "ix_memories_owner_id_companion_id_id", ["owner_id", "companion_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_memories_owner_id_companion_id_topic",
            ["owner_id", "companion_id", "topic"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("memories")
    op.drop_table("lorebook_entries")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        for name in ("summary_updated_at", "summary_through_id", "summary"):
            batch_op.drop_column(name)
    with op.batch_alter_table("companions", schema=None) as batch_op:
        for name in ("memory_enabled", "picture_key", "card_data", "alternate_greetings"):
            batch_op.drop_column(name)
        for name in reversed(_COMPANION_TEXT):
            batch_op.drop_column(name)
        batch_op.alter_column(
            "greeting", existing_type=sa.Text(), type_=sa.String(length=1000), existing_nullable=False
        )
