"""kept posts: edits and deletes, claims across processes, outcome and message id

Revision ID: 0002o
Revises: 0002h
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002o"
down_revision: str | None = "0002h"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pending_posts") as batch:
        batch.add_column(
            sa.Column("operation", sa.String(length=8), nullable=False, server_default="send")
        )
        batch.add_column(sa.Column("target", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("outcome", sa.String(length=16), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("message_id", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_pending_posts_due", ["outcome", "next_attempt_at"])


def downgrade() -> None:
    with op.batch_alter_table("pending_posts") as batch:
        batch.drop_index("ix_pending_posts_due")
        for column in ("finished_at", "message_id", "outcome", "claimed_until", "target"):
            batch.drop_column(column)
        batch.drop_column("operation")
