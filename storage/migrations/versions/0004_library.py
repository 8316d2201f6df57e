"""library: resources, tags, helpful marks, full-text search

Revision ID: 0004l
Revises: 0003r
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004l"
down_revision: str | None = "0003r"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: an FTS5 index over resources.search_text, kept in step by triggers.
_SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE library_search USING fts5(search_text, content='resources', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER library_search_insert AFTER INSERT ON resources BEGIN "
    "INSERT INTO library_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER library_search_delete AFTER DELETE ON resources BEGIN "
    "INSERT INTO library_search(library_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER library_search_update AFTER UPDATE OF search_text ON resources BEGIN "
    "INSERT INTO library_search(library_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO library_search(rowid, search_text) VALUES (new.id, new.search_text); END",
)
# PostgreSQL: a GIN index on the 'simple' tsvector of the same (already normalised) text.
_POSTGRES_SEARCH = (
    "CREATE INDEX ix_resources_search ON resources "
    "USING gin (to_tsvector('simple'::regconfig, search_text))",
)


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("url_key", sa.String(length=2000), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("summary", sa.String(length=2000), nullable=False),
        sa.Column("saved_text", sa.Text(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("helpful", sa.Integer(), nullable=False),
        sa.Column("shared_by", sa.String(length=200), nullable=False),
        sa.Column("source", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("community_id", "number"),
        sa.UniqueConstraint("community_id", "url_key"),
    )
    op.create_index("ix_resources_listing", "resources", ["community_id", "status", "created_at"])
    op.create_table(
        "resource_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resource_id", "tag"),
    )
    op.create_index("ix_resource_tags_tag", "resource_tags", ["tag"])
    op.create_index("ix_resource_tags_resource_id", "resource_tags", ["resource_id"])
    op.create_table(
        "helpful_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resource_id", "user_id"),
    )
    op.create_index("ix_helpful_marks_resource_id", "helpful_marks", ["resource_id"])
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": _SQLITE_SEARCH, "postgresql": _POSTGRES_SEARCH}.get(dialect, ()):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS library_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS library_search")
    op.drop_table("helpful_marks")
    op.drop_table("resource_tags")
    op.drop_table("resources")
