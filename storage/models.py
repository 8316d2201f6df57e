"""The tables copbot keeps, as SQLModel classes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class CommunityKind(StrEnum):
    COP = "cop"
    GUILD = "guild"
    ERG = "erg"


class Role(StrEnum):
    STEWARD = "steward"
    CORE = "core"
    MEMBER = "member"
    SPONSOR = "sponsor"


def _when(**kwargs: Any) -> Any:
    """A timezone-aware timestamp column (stored as UTC)."""
    return Field(sa_column=Column(DateTime(timezone=True), **kwargs))


class Workspace(SQLModel, table=True):
    """A Slack workspace, a Teams tenant or the console: the unit that keeps data apart."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=128)
    enterprise_id: str | None = Field(default=None, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    created_at: datetime = _when(nullable=False)


class Community(SQLModel, table=True):
    """A community of practice, guild or ERG bound to one home channel (also once archived)."""

    __tablename__ = "communities"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id"),
        UniqueConstraint("workspace_id", "name_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    name: str = Field(max_length=80)
    name_key: str = Field(max_length=80)
    kind: str = Field(default=CommunityKind.COP, max_length=8)
    domain: str = Field(default="", max_length=300)
    mission: str = Field(default="", max_length=1000)
    channel_id: str = Field(max_length=200)
    channel_name: str | None = Field(default=None, max_length=200)
    timezone: str = Field(default="UTC", max_length=64)
    created_at: datetime = _when(nullable=False)
    # Set while the community is archived: its data is kept and `setup` brings it back.
    archived_at: datetime | None = _when(nullable=True)


class Member(SQLModel, table=True):
    """A person's membership in one community; `active` is false once they leave."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("community_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    user_id: str = Field(max_length=200)
    display_name: str = Field(max_length=200)
    role: str = Field(default=Role.MEMBER, max_length=16)
    active: bool = Field(default=True)
    joined_at: datetime = _when(nullable=False)
    left_at: datetime | None = _when(nullable=True)


class Expertise(SQLModel, table=True):
    """One topic a member knows about; `tag` is lower-cased for search, `label` as typed."""

    __tablename__ = "expertise"
    __table_args__ = (UniqueConstraint("member_id", "tag"), Index("ix_expertise_tag", "tag"))

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    tag: str = Field(max_length=60)
    label: str = Field(max_length=60)


class Activity(SQLModel, table=True):
    """What happened in a community, for analytics: who did what, when."""

    __tablename__ = "activity"
    __table_args__ = (Index("ix_activity_community_at", "community_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    community_id: int | None = Field(default=None, foreign_key="communities.id")
    user_id: str = Field(max_length=200)
    action: str = Field(max_length=40)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = _when(nullable=False)


class ProcessedEvent(SQLModel, table=True):
    """An inbound platform event already handled, so a redelivery is processed once."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    event_id: str = Field(max_length=200)
    received_at: datetime = _when(nullable=False)


class PendingPost(SQLModel, table=True):
    """An outbound message that could not be delivered yet; retried later, never dropped."""

    __tablename__ = "pending_posts"

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=128)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    attempts: int = Field(default=0)
    last_error: str = Field(default="", max_length=1000)
    created_at: datetime = _when(nullable=False)
    next_attempt_at: datetime = _when(nullable=False)


class ConversationReference(SQLModel, table=True):
    """Where a platform lets the bot post later (Teams' ConversationReference, as JSON)."""

    __tablename__ = "conversation_references"
    __table_args__ = (UniqueConstraint("platform", "workspace", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=128)
    key: str = Field(max_length=300)
    kind: str = Field(max_length=16)
    reference: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _when(nullable=False)
