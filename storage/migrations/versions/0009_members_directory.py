"""members: the directory's order (role, then name) indexed, so a page of a large community
is read from the index instead of sorting every member

Revision ID: 0007d
Revises: 0006s
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007d"
down_revision: str | None = "0006s"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As storage.models spelled them at this revision (a query must use the same text).
ROLE_RANK_SQL = (
    "CASE role WHEN 'steward' THEN 0 WHEN 'core' THEN 1 WHEN 'member' THEN 2"
    " WHEN 'sponsor' THEN 3 ELSE 4 END"
)


def upgrade() -> None:
    op.create_index(
        "ix_members_directory",
        "members",
        [
            "community_id",
            "active",
            sa.text(f"({ROLE_RANK_SQL})"),
            sa.text("lower(display_name)"),
            "id",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_members_directory", table_name="members")
