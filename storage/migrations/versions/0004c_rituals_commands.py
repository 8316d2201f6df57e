"""rituals commands: series ended by edits, facilitators' skips

Revision ID: 0004c
Revises: 0004d
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004c"
down_revision: str | None = "0004d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rituals") as batch:
        batch.add_column(sa.Column("past_series", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "facilitator_skips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["occurrence_id"], ["occurrences.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("occurrence_id", "user_id"),
    )
    with op.batch_alter_table("facilitator_skips") as batch:
        batch.create_index(
            batch.f("ix_facilitator_skips_occurrence_id"), ["occurrence_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("facilitator_skips") as batch:
        batch.drop_index(batch.f("ix_facilitator_skips_occurrence_id"))
    op.drop_table("facilitator_skips")
    with op.batch_alter_table("rituals") as batch:
        batch.drop_column("past_series")
