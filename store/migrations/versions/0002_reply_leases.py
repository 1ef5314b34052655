"""reply owner leases

A streaming reply names the process producing it and until when that process holds it, so any
live process can finish a reply whose producer died (services/reply_leases.py). Replies left
streaming before this revision get an expired lease: the first sweep after the upgrade ends them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 12:05:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", store.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_messages_lease_expires_at"), ["lease_expires_at"], unique=False
        )
    messages = sa.table(
        "messages",
        sa.column("status", sa.String()),
        sa.column("lease_expires_at", store.base.UTCDateTime(timezone=True)),
    )
    op.execute(
        messages.update()
        .where(messages.c.status == "streaming")
        .values(lease_expires_at=datetime(2000, 1, 1, tzinfo=UTC))
    )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_lease_expires_at"))
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")
