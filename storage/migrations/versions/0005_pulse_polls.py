"""pulse polls: a poll may belong to a ritual's meeting (the post-session pulse)

Revision ID: 0005p
Revises: 0004f
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005p"
down_revision: str | None = "0004f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("polls") as batch:
        batch.add_column(sa.Column("occurrence_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_polls_occurrence_id", "occurrences", ["occurrence_id"], ["id"])
        batch.create_index("ix_polls_occurrence_id", ["occurrence_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("polls") as batch:
        batch.drop_index("ix_polls_occurrence_id")
        batch.drop_constraint("fk_polls_occurrence_id", type_="foreignkey")
        batch.drop_column("occurrence_id")
