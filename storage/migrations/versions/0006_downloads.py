"""downloads: files served under an unguessable link for an hour (Teams exports); on
PostgreSQL, the library's tsvector stored in a generated column (GIN-indexed)

Revision ID: 0006d
Revises: 0005p
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006d"
down_revision: str | None = "0005p"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "downloads",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("workspace", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_index("ix_downloads_expires_at", "downloads", ["expires_at"])
    if op.get_bind().dialect.name == "postgresql":
        # Ranking read the tsvector back by parsing search_text again for every match.
        op.execute("DROP INDEX IF EXISTS ix_resources_search")
        op.execute(
            "ALTER TABLE resources ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple'::regconfig, search_text)) STORED"
        )
        op.execute("CREATE INDEX ix_resources_search ON resources USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_resources_search")
        op.execute("ALTER TABLE resources DROP COLUMN search_vector")
        op.execute(
            "CREATE INDEX ix_resources_search ON resources "
            "USING gin (to_tsvector('simple'::regconfig, search_text))"
        )
    op.drop_index("ix_downloads_expires_at", table_name="downloads")
    op.drop_table("downloads")
