"""health analytics: chart links, the monthly digest, wins and kudos indexed by time

Revision ID: 0006a
Revises: 0006d
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006a"
down_revision: str | None = "0006d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chart_links",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"]),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_index("ix_chart_links_expires_at", "chart_links", ["expires_at"])
    op.create_table(
        "health_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("posts", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "month"),
    )
    op.create_index("ix_health_digests_open", "health_digests", ["sent_at", "claimed_until"])
    op.create_index("ix_wins_community_created", "wins", ["community_id", "created_at"])
    op.create_index("ix_kudos_community_created", "kudos", ["community_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_kudos_community_created", table_name="kudos")
    op.drop_index("ix_wins_community_created", table_name="wins")
    op.drop_index("ix_health_digests_open", table_name="health_digests")
    op.drop_table("health_digests")
    op.drop_index("ix_chart_links_expires_at", table_name="chart_links")
    op.drop_table("chart_links")
