"""character assets' VRM version

``character_assets.vrm_version`` (VRM0 or VRM1): a VRM 0.x model names its expressions
``A I U E O`` / ``Joy Angry Sorrow Fun``, a VRM 1.0 model ``aa ih ou ee oh`` / ``happy angry sad
relaxed surprised``; the device manifest's default maps follow it (services/devices/manifest.py).
Existing rows were VRM 1.0's presets, hence the server default.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("character_assets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("vrm_version", sa.String(length=4), server_default="VRM1", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("character_assets", schema=None) as batch_op:
        batch_op.drop_column("vrm_version")
