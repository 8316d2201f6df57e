"""expertise terms: each skill's normalised terms, indexed by workspace and community;
members indexed by user (a person's communities) and by community, role and active

Revision ID: 0006s
Revises: 0006a
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.search_terms import terms_of

revision: str = "0006s"
down_revision: str | None = "0006a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 5000


def upgrade() -> None:
    terms = op.create_table(
        "expertise_terms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("expertise_id", sa.Integer(), sa.ForeignKey("expertise.id"), nullable=False),
        sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("community_id", sa.Integer(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("term", sa.String(length=60), nullable=False),
        sa.UniqueConstraint("expertise_id", "term"),
    )
    op.create_index(
        "ix_expertise_terms_workspace_term", "expertise_terms", ["workspace_id", "term", "id"]
    )
    op.create_index(
        "ix_expertise_terms_community_term", "expertise_terms", ["community_id", "term", "id"]
    )
    op.create_index("ix_members_user_id", "members", ["user_id"])
    op.create_index(
        "ix_members_community_role_active", "members", ["community_id", "role", "active"]
    )
    # The skills set before this revision, made searchable the same way new ones are.
    connection = op.get_bind()
    skills = connection.execute(
        sa.text(
            "SELECT expertise.id, expertise.tag, members.community_id, communities.workspace_id"
            " FROM expertise JOIN members ON members.id = expertise.member_id"
            " JOIN communities ON communities.id = members.community_id"
        )
    ).all()
    rows: list[dict[str, object]] = []
    for expertise_id, tag, community_id, workspace_id in skills:
        rows.extend(
            {
                "expertise_id": expertise_id,
                "workspace_id": workspace_id,
                "community_id": community_id,
                "term": term,
            }
            for term in sorted(terms_of(tag))
        )
        if len(rows) >= CHUNK:
            op.bulk_insert(terms, rows)
            rows = []
    if rows:
        op.bulk_insert(terms, rows)


def downgrade() -> None:
    op.drop_index("ix_members_community_role_active", table_name="members")
    op.drop_index("ix_members_user_id", table_name="members")
    op.drop_index("ix_expertise_terms_community_term", table_name="expertise_terms")
    op.drop_index("ix_expertise_terms_workspace_term", table_name="expertise_terms")
    op.drop_table("expertise_terms")
