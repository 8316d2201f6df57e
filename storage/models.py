"""The tables copbot keeps, as SQLModel classes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    LargeBinary,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
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


# The directory's order of roles (stewards first) as SQL. The expression index
# `ix_members_directory` (migration 0007d) holds it and the name's; a query is served by that
# index only when it spells the same expressions, so the directory's query uses these texts.
ROLE_RANK_SQL = (
    "CASE role "
    + " ".join(f"WHEN '{role.value}' THEN {rank}" for rank, role in enumerate(Role))
    + f" ELSE {len(Role)} END"
)
DISPLAY_NAME_SORT_SQL = "lower(display_name)"


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and read back timezone-aware on every database (SQLite keeps
    no zone, so its values would otherwise come back naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def _when(**kwargs: Any) -> Any:
    """A timezone-aware timestamp column (stored as UTC)."""
    return Field(sa_column=Column(UTCDateTime(), **kwargs))


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
    __table_args__ = (
        UniqueConstraint("community_id", "user_id"),
        # A community's stewards, and its count of active members read from the index alone.
        Index("ix_members_community_role_active", "community_id", "role", "active"),
        # And ix_members_directory, on expressions: see EXPRESSION_INDEXES.
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    user_id: str = Field(max_length=200, index=True)  # a person's communities, for home
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


class ExpertiseTerm(SQLModel, table=True):
    """One normalised term a skill is found by (`storage/search_terms.py`), with the
    skill's workspace and community copied in so `who` reads one index range and stops."""

    __tablename__ = "expertise_terms"
    __table_args__ = (
        UniqueConstraint("expertise_id", "term"),
        Index("ix_expertise_terms_workspace_term", "workspace_id", "term", "id"),
        Index("ix_expertise_terms_community_term", "community_id", "term", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    expertise_id: int = Field(foreign_key="expertise.id")
    workspace_id: int = Field(foreign_key="workspaces.id")
    community_id: int = Field(foreign_key="communities.id")
    term: str = Field(max_length=60)


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
    """An outbound post or edit that failed and is retried; it records how it ended.

    `operation` is send, update or delete; `target` the message an edit is for. A process
    claims a row (`claimed_until`) before it sends, so several processes send it once.
    `outcome` is empty while it waits, then sent, gone (the message no longer exists) or
    gave_up; `message_id` is what the platform called the message it posted."""

    __tablename__ = "pending_posts"
    __table_args__ = (Index("ix_pending_posts_due", "outcome", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=128)
    operation: str = Field(default="send", max_length=8)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    target: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    attempts: int = Field(default=0)
    last_error: str = Field(default="", max_length=1000)
    created_at: datetime = _when(nullable=False)
    next_attempt_at: datetime = _when(nullable=False)
    claimed_until: datetime | None = _when(nullable=True)
    outcome: str = Field(default="", max_length=16)
    message_id: str | None = Field(default=None, max_length=200)
    finished_at: datetime | None = _when(nullable=True)


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


# Rituals ---------------------------------------------------------------------------------


class Ritual(SQLModel, table=True):
    """A recurring (or one-off) gathering of a community, shown to people as `#number`.

    `schedule` is `rituals.schedule.Schedule.to_json()` (RFC 5545: DTSTART with its zone,
    RRULE, EXDATE, RDATE, a pause); `reminders` are minutes before the start. `uid` and
    `sequence` identify it in calendar feeds (SEQUENCE goes up on every change)."""

    __tablename__ = "rituals"
    __table_args__ = (UniqueConstraint("community_id", "number"), UniqueConstraint("uid"))

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    number: int
    template: str = Field(max_length=40)
    title: str = Field(max_length=120)
    agenda: str = Field(default="", max_length=2000)
    location: str = Field(default="", max_length=500)
    schedule: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    duration_minutes: int = Field(default=60)
    reminders: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rotate: bool = Field(default=False)
    pulse: bool = Field(default=True)
    status: str = Field(default="active", max_length=16)  # active, cancelled
    uid: str = Field(max_length=120)
    sequence: int = Field(default=0)
    created_by: str = Field(max_length=200)
    created_at: datetime = _when(nullable=False)
    updated_at: datetime = _when(nullable=False)
    # Series ended by `ritual edit`: [{"uid", "schedule", "duration_minutes"}], oldest first,
    # so calendars keep the meetings that took place under the old schedule.
    past_series: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class Occurrence(SQLModel, table=True):
    """One meeting of a ritual, materialised ahead for a window; what RSVPs, attendance,
    facilitators and deliveries belong to. `recurrence_id` is the schedule's wall time for
    it (what EXDATE and RDATE name)."""

    __tablename__ = "occurrences"
    __table_args__ = (
        UniqueConstraint("ritual_id", "starts_at"),
        Index("ix_occurrences_starts_at", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ritual_id: int = Field(foreign_key="rituals.id", index=True)
    starts_at: datetime = _when(nullable=False)
    ends_at: datetime = _when(nullable=False)
    recurrence_id: str = Field(max_length=40)
    status: str = Field(default="scheduled", max_length=16)  # scheduled, skipped, cancelled
    facilitator_id: str | None = Field(default=None, max_length=200)
    facilitator_assigned: bool = Field(default=False)  # chosen by a steward or a swap
    facilitator_confirmed: bool = Field(default=False)
    co_facilitator_id: str | None = Field(default=None, max_length=200)


class Delivery(SQLModel, table=True):
    """Something copbot posts for an occurrence at a set time: a reminder, the start post,
    the facilitator's ask, a steward's nudge, the pulse. Claimed before it is sent
    (`claimed_until`, from `claimed_at`), recorded after (`sent_at`, `message`).

    `sent_at` is set once the delivery is over, whatever its `outcome`; `claimed_at` stays
    set while an attempt's result is unknown (the post may be out: look for it first).
    `attempts` counts failed sends; `detail` holds the last failure or why it was skipped."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "kind"),
        Index("ix_deliveries_due", "sent_at", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="occurrences.id", index=True)
    kind: str = Field(max_length=32)  # reminder:<minutes>, start, ask, nudge, pulse
    due_at: datetime = _when(nullable=False)
    claimed_at: datetime | None = _when(nullable=True)
    claimed_until: datetime | None = _when(nullable=True)
    sent_at: datetime | None = _when(nullable=True)
    outcome: str = Field(default="", max_length=16)  # sent, skipped, failed, unknown
    message: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    attempts: int = Field(default=0)
    detail: str = Field(default="", max_length=1000)


class RitualPlan(SQLModel, table=True):
    """When a ritual's meetings and deliveries were last planned, and for which version of
    it (`updated_at` and `sequence`), so processes and restarts do not plan it again."""

    __tablename__ = "ritual_plans"

    ritual_id: int = Field(foreign_key="rituals.id", primary_key=True)
    version: str = Field(max_length=80)
    planned_at: datetime = _when(nullable=False)


class Rsvp(SQLModel, table=True):
    """A person's answer for one occurrence: going, maybe or no."""

    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("occurrence_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="occurrences.id", index=True)
    user_id: str = Field(max_length=200)
    answer: str = Field(max_length=8)
    at: datetime = _when(nullable=False)


class Attendance(SQLModel, table=True):
    """Who came to an occurrence, as a steward recorded it."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("occurrence_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="occurrences.id", index=True)
    user_id: str = Field(max_length=200)
    recorded_by: str = Field(max_length=200)
    at: datetime = _when(nullable=False)


class FacilitatorPool(SQLModel, table=True):
    """A person's standing in one ritual's facilitator rotation."""

    __tablename__ = "facilitator_pool"
    __table_args__ = (UniqueConstraint("ritual_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ritual_id: int = Field(foreign_key="rituals.id", index=True)
    user_id: str = Field(max_length=200)
    volunteered: bool = Field(default=False)
    opted_out: bool = Field(default=False)
    wants_co_facilitator: bool = Field(default=False)
    joined_at: datetime = _when(nullable=False)


class FacilitatorSkip(SQLModel, table=True):
    """A facilitator who cannot make one occurrence: rotation passes them over for it and
    they keep their priority for the next."""

    __tablename__ = "facilitator_skips"
    __table_args__ = (UniqueConstraint("occurrence_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="occurrences.id", index=True)
    user_id: str = Field(max_length=200)
    at: datetime = _when(nullable=False)


class Absence(SQLModel, table=True):
    """A person away from a community's rotation and pairing, first to last day inclusive."""

    __tablename__ = "absences"
    __table_args__ = (Index("ix_absences_person", "community_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id")
    user_id: str = Field(max_length=200)
    first_day: date
    last_day: date
    set_by: str = Field(max_length=200)


class PairGroup(SQLModel, table=True):
    """One pair (or trio) of a peer-mentoring cycle: the occurrence it was made for."""

    __tablename__ = "pair_groups"

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(foreign_key="occurrences.id", index=True)
    members: list[str] = Field(sa_column=Column(JSON, nullable=False))


class CommunityCalendar(SQLModel, table=True):
    """The unguessable secret in a community's calendar feed link."""

    __tablename__ = "community_calendars"

    community_id: int = Field(foreign_key="communities.id", primary_key=True)
    secret: str = Field(max_length=64, unique=True)


# Library ---------------------------------------------------------------------------------


class Resource(SQLModel, table=True):
    """A link or a saved thread in a community's library, shown to people as `#number`.

    `url_key` is the normalised link, so the same link shared twice is one resource (threads
    saved without a link have none). `search_text` is title, note, summary, saved text and
    tags casefolded without diacritics, what both databases' full-text search index.
    A saved thread is a `draft` until the person who saved it confirms it."""

    __tablename__ = "resources"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        UniqueConstraint("community_id", "url_key"),
        Index("ix_resources_listing", "community_id", "status", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id")
    number: int
    url: str | None = Field(default=None, max_length=2000)
    url_key: str | None = Field(default=None, max_length=2000)
    title: str = Field(max_length=200)
    note: str = Field(default="", max_length=1000)
    summary: str = Field(default="", max_length=2000)
    saved_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    links: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(default="published", max_length=16)  # draft, published
    helpful: int = Field(default=0)
    shared_by: str = Field(max_length=200)
    source: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = _when(nullable=False)
    published_at: datetime | None = _when(nullable=True)


class ResourceTag(SQLModel, table=True):
    """One tag of a resource (lower-cased, without `#`), for `library #tag`."""

    __tablename__ = "resource_tags"
    __table_args__ = (
        UniqueConstraint("resource_id", "tag"),
        Index("ix_resource_tags_tag", "tag"),
    )

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resources.id", index=True)
    tag: str = Field(max_length=40)


class HelpfulMark(SQLModel, table=True):
    """A member found a resource helpful (one mark per person)."""

    __tablename__ = "helpful_marks"
    __table_args__ = (UniqueConstraint("resource_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resources.id", index=True)
    user_id: str = Field(max_length=200)
    at: datetime = _when(nullable=False)


# Kept by migrations only (full-text search differs per database), so autogenerate leaves
# them alone: SQLite's FTS5 table (and its shadow tables), PostgreSQL's GIN index and the
# stored tsvector column it indexes.
SEARCH_OBJECTS = ("library_search", "ix_resources_search", "search_vector")
# Indexes on expressions, kept by migrations only: autogenerate cannot compare them (SQLite does
# not reflect them, PostgreSQL hands them back rewritten, `'steward'::text`).
# tests/test_directory_plans.py shows they exist and serve their queries.
EXPRESSION_INDEXES = ("ix_members_directory",)


def in_models(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's `include_name`: False for the full-text search objects and the expression
    indexes above."""
    return not (name or "").startswith(SEARCH_OBJECTS + EXPRESSION_INDEXES)


# Feedback: polls, wins and kudos, onboarding ------------------------------------------------


class Poll(SQLModel, table=True):
    """A poll in a community's channel, shown to people as `#number`. `options` are the
    choices' labels in order (numbered from 1). `message_*` is the ref of the posted poll, so
    reactions on it count as votes and its counts can be edited in place."""

    __tablename__ = "polls"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        Index("ix_polls_message", "message_channel", "message_id"),
        Index("ix_polls_closing", "closed_at", "closes_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    number: int
    question: str = Field(max_length=300)
    options: list[str] = Field(sa_column=Column(JSON, nullable=False))
    anonymous: bool = Field(default=False)
    hidden: bool = Field(default=False)  # results shown only once it is closed
    multi: bool = Field(default=False)  # a person may choose several options
    created_by: str = Field(max_length=200)
    created_at: datetime = _when(nullable=False)
    closes_at: datetime | None = _when(nullable=True)
    closed_at: datetime | None = _when(nullable=True)
    message_platform: str | None = Field(default=None, max_length=16)
    message_workspace: str | None = Field(default=None, max_length=128)
    message_enterprise: str | None = Field(default=None, max_length=128)
    message_channel: str | None = Field(default=None, max_length=200)
    message_id: str | None = Field(default=None, max_length=200)
    message_thread: str | None = Field(default=None, max_length=200)
    # The meeting this poll is the post-session pulse of (one pulse per meeting).
    occurrence_id: int | None = Field(
        default=None, foreign_key="occurrences.id", unique=True, index=True
    )


class PollVote(SQLModel, table=True):
    """Where one person stands on one option of a poll: `chosen` as of `at`, the time of the
    latest event about it (an older event arriving late changes nothing). `voter` is the
    user id, or for an anonymous poll a keyed hash of (poll, user) that names nobody."""

    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "voter", "option"),)

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="polls.id")
    voter: str = Field(max_length=200)
    option: int  # numbered from 1
    chosen: bool
    at: datetime = _when(nullable=False)


class InstallationSecret(SQLModel, table=True):
    """A random secret made once for this installation (the key of anonymous voters' hashes,
    unless COPBOT_SECRET_KEY gives one)."""

    __tablename__ = "installation_secrets"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=128)


class Win(SQLModel, table=True):
    """A win a member shared with their community."""

    __tablename__ = "wins"
    __table_args__ = (Index("ix_wins_community_created", "community_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    user_id: str = Field(max_length=200)
    text: str = Field(max_length=1000)
    created_at: datetime = _when(nullable=False)


class Kudos(SQLModel, table=True):
    """Thanks from one person to another, shared in the community's channel."""

    __tablename__ = "kudos"
    __table_args__ = (Index("ix_kudos_community_created", "community_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    from_user: str = Field(max_length=200)
    to_user: str = Field(max_length=200)
    text: str = Field(max_length=1000)
    created_at: datetime = _when(nullable=False)


class OnboardingText(SQLModel, table=True):
    """A community's own welcome message, as its stewards wrote it (with placeholders)."""

    __tablename__ = "onboarding_texts"

    community_id: int = Field(foreign_key="communities.id", primary_key=True)
    text: str = Field(max_length=2000)
    updated_by: str = Field(max_length=200)
    updated_at: datetime = _when(nullable=False)


class Welcome(SQLModel, table=True):
    """A person welcomed to a community (once, however often the platform says they joined)."""

    __tablename__ = "welcomes"
    __table_args__ = (UniqueConstraint("community_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id")
    user_id: str = Field(max_length=200)
    welcomed_at: datetime = _when(nullable=False)


class MentorRequest(SQLModel, table=True):
    """A newcomer's wish to be paired with a peer mentor, for the stewards to act on."""

    __tablename__ = "mentor_requests"
    __table_args__ = (UniqueConstraint("community_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id")
    user_id: str = Field(max_length=200)
    requested_at: datetime = _when(nullable=False)


# Data rights -------------------------------------------------------------------------------


class Download(SQLModel, table=True):
    """A file copbot serves once under an unguessable link (a Teams export), to the person
    who asked for it, until `expires_at`."""

    __tablename__ = "downloads"
    __table_args__ = (Index("ix_downloads_expires_at", "expires_at"),)

    token: str = Field(primary_key=True, max_length=64)
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=128)
    user_id: str = Field(max_length=200)
    filename: str = Field(max_length=200)
    media_type: str = Field(max_length=100)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)


# Health: chart links and the monthly digest ----------------------------------------------


class ChartLink(SQLModel, table=True):
    """An unguessable link to a community's health chart over one period
    (`/charts/<token>.png`): the chart is drawn when the link is fetched, until `expires_at`."""

    __tablename__ = "chart_links"
    __table_args__ = (Index("ix_chart_links_expires_at", "expires_at"),)

    token: str = Field(primary_key=True, max_length=64)
    community_id: int = Field(foreign_key="communities.id")
    since: datetime = _when(nullable=False)
    until: datetime = _when(nullable=False)
    expires_at: datetime = _when(nullable=False)


class HealthDigest(SQLModel, table=True):
    """A community's monthly digest for `month` (YYYY-MM), sent once: claimed before it is
    sent (`claimed_until`), over once `sent_at` is set. `posts` holds each recipient's state
    (posting, then sent or unknown), so a retry never sends to anyone twice."""

    __tablename__ = "health_digests"
    __table_args__ = (
        UniqueConstraint("community_id", "month"),
        Index("ix_health_digests_open", "sent_at", "claimed_until"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id")
    month: str = Field(max_length=7)
    claimed_at: datetime | None = _when(nullable=True)
    claimed_until: datetime | None = _when(nullable=True)
    sent_at: datetime | None = _when(nullable=True)
    outcome: str = Field(default="", max_length=16)  # sent, skipped, unknown
    posts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = Field(default=0)
