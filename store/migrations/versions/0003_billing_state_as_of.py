"""billing state as of the provider's event time

``billing_subscriptions.state_as_of``: when the provider made the last event applied to the
subscription, so an older event delivered late is not applied (services/billing.py).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("billing_subscriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state_as_of", store.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("billing_subscriptions", schema=None) as batch_op:
        batch_op.drop_column("state_as_of")
