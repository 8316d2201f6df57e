"""A community's health over a period, counted by the database: who takes part, how its
meetings go, what it shares, and the warning signs of a community fading.

Every query is bounded by the community and the two periods compared (this one and the one
before it) and served by an index; nothing loads a whole table. The arithmetic on what the
queries return lives in `health_signs.py`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, distinct, func, literal, select, union_all
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.services.health_signs import (
    Figures,
    Session,
    carrying,
    falling_attendance,
    figures_of,
)
from bot.vocabulary import PULSE_OPTIONS, PULSE_SCORE_TOP
from storage.database import Database
from storage.models import (
    Activity,
    Attendance,
    ChartLink,
    Community,
    Kudos,
    Member,
    Occurrence,
    Poll,
    PollVote,
    Resource,
    Ritual,
    Rsvp,
    Win,
)

SCHEDULED = "scheduled"
ALIVE = "active"
PUBLISHED = "published"
SILENCE = timedelta(days=14)  # no activity at all for this long is a warning
UPCOMING = timedelta(days=14)  # meetings this far ahead need a facilitator
LINK_LIFETIME = timedelta(days=62)  # a chart link in a digest outlives the month after it
CHARTLESS = frozenset({"console"})  # platforms that show sparklines instead of a chart
DAYS_DEFAULT = 90
DAYS_LEAST, DAYS_MOST = 7, 730


@dataclass(frozen=True, kw_only=True)
class Period:
    """This period [since, until) and the one it is compared with [before, since)."""

    before: datetime
    since: datetime
    until: datetime

    @classmethod
    def last_days(cls, until: datetime, days: int) -> Period:
        length = timedelta(days=days)
        return cls(before=until - 2 * length, since=until - length, until=until)


@dataclass(frozen=True, kw_only=True)
class Report:
    """A community's health: both periods' figures, this period's meetings, the warnings.

    A warning is a dict with its `kind` (falling, unled, silence, carrying, newcomers: one
    word each, so no surface's escaping changes it) and what its sentence needs."""

    community: Community
    period: Period
    now: Figures
    previous: Figures
    sessions: list[Session]
    warnings: list[dict[str, Any]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # user id -> display name


class HealthService:
    """Reports on a community's health, and the chart links that show it."""

    def __init__(self, database: Database, clock: Clock, *, public_url: str | None) -> None:
        self._database = database
        self._clock = clock
        self.public_url = public_url.rstrip("/") if public_url else None

    async def report(self, community: Community, period: Period) -> Report:
        """The health of `community` over `period` (`until` is usually now)."""
        assert community.id is not None
        now = self._clock.now()
        async with self._database.session() as session:
            sessions = await _sessions(session, community.id, period.before, period.until)
            people = await _people(session, community.id, period)
            counts = await _counts(session, community.id, period)
            warnings = await _warnings(session, community, period, now)
            this = [s for s in sessions if s.starts_at >= period.since]
            before = [s for s in sessions if s.starts_at < period.since]
            warnings.extend(_meeting_warnings(sessions, this))
            named = {w["person"] for w in warnings if "person" in w}
            named.update(p for w in warnings for p in w.get("people", ()))
            names = await _names(session, community.id, named)
        return Report(
            community=community,
            period=period,
            now=figures_of(this, active=people[0], new=people[1], **counts[0]),
            previous=figures_of(before, active=people[2], new=people[3], **counts[1]),
            sessions=this,
            warnings=warnings,
            names=names,
        )

    # Chart links ---------------------------------------------------------------------------

    async def chart_link(self, report: Report, platform: str) -> str | None:
        """An unguessable link to the chart of the report's community over its period, or
        None when copbot has no public address (COPBOT_PUBLIC_URL) a chat client could fetch
        it from, `platform` shows no images (the console), or no meeting took place (an
        empty chart says nothing the figures do not).

        The link is a random token kept with what it shows and an expiry, rather than a URL
        signed with the installation's secret: it names neither the community nor the period,
        it can be forgotten (expired ones are deleted), and no key has to be rotated for all
        links to withdraw one."""
        if self.public_url is None or platform in CHARTLESS or not report.sessions:
            return None
        community, period = report.community, report.period
        assert community.id is not None
        token = secrets.token_urlsafe(24)
        async with self._database.session() as session:
            session.add(
                ChartLink(
                    token=token,
                    community_id=community.id,
                    since=period.since,
                    until=period.until,
                    expires_at=self._clock.now() + LINK_LIFETIME,
                )
            )
        return f"{self.public_url}/charts/{token}.png"

    async def chart_of(self, token: str) -> tuple[Community, list[Session]] | None:
        """What the chart behind `token` shows: its community and meetings (None when the
        token is unknown or has expired)."""
        async with self._database.session() as session:
            found = (
                await session.exec(
                    select(ChartLink, Community)  # type: ignore[call-overload]
                    .join(Community, col(Community.id) == col(ChartLink.community_id))
                    .where(
                        col(ChartLink.token) == token,
                        col(ChartLink.expires_at) > self._clock.now(),
                    )
                )
            ).first()
            if found is None:
                return None
            link, community = found
            return community, await _sessions(session, link.community_id, link.since, link.until)

    async def forget_expired_links(self) -> int:
        async with self._database.session() as session:
            result = await session.exec(
                delete(ChartLink).where(col(ChartLink.expires_at) <= self._clock.now())  # type: ignore[call-overload]
            )
            return int(result.rowcount or 0)


# Queries -----------------------------------------------------------------------------------


def _held(community_id: int) -> ColumnElement[bool]:
    return and_(col(Ritual.community_id) == community_id, col(Occurrence.status) == SCHEDULED)


async def _sessions(
    session: AsyncSession, community_id: int, since: datetime, until: datetime
) -> list[Session]:
    """The meetings in [since, until) with their attendance and pulse, oldest first."""
    came = (
        select(col(Attendance.occurrence_id), func.count().label("came"))
        .join(Occurrence, col(Occurrence.id) == col(Attendance.occurrence_id))
        .join(Ritual, col(Ritual.id) == col(Occurrence.ritual_id))
        .where(_held(community_id), col(Occurrence.starts_at) >= since)
        .where(col(Occurrence.starts_at) < until)
        .group_by(col(Attendance.occurrence_id))
        .subquery()
    )
    pulse = _pulse_votes(community_id, since, until)
    pulses = (
        select(
            pulse.c.occurrence_id,
            func.sum(pulse.c.score).label("total"),
            func.count().label("votes"),
        )
        .group_by(pulse.c.occurrence_id)
        .subquery()
    )
    query = (
        select(
            col(Occurrence.id),
            col(Ritual.number),
            col(Ritual.title),
            col(Occurrence.starts_at),
            col(Occurrence.facilitator_id),
            came.c.came,
            pulses.c.total,
            pulses.c.votes,
        )
        .join(Ritual, col(Ritual.id) == col(Occurrence.ritual_id))
        .outerjoin(came, came.c.occurrence_id == col(Occurrence.id))
        .outerjoin(pulses, pulses.c.occurrence_id == col(Occurrence.id))
        .where(_held(community_id), col(Occurrence.starts_at) >= since)
        .where(col(Occurrence.starts_at) < until)
        .order_by(col(Occurrence.starts_at), col(Ritual.number))
    )
    rows = (await session.exec(query)).all()  # type: ignore[call-overload]
    return [
        Session(
            occurrence_id=row[0],
            ritual_number=row[1],
            ritual_title=row[2],
            starts_at=row[3],
            facilitator=row[4],
            attendees=None if row[5] is None else int(row[5]),
            pulse_total=int(row[6] or 0),
            pulse_votes=int(row[7] or 0),
        )
        for row in rows
    ]


def _pulse_votes(community_id: int, since: datetime, until: datetime) -> Any:
    """Each voter's pulse vote on the meetings in [since, until): (occurrence, score). A
    pulse is a poll with `occurrence_id`, options 1 great … 4 not useful, scored `5 - option`;
    a voter's vote is their chosen option with the latest time, as polls count it."""
    ranked = (
        select(
            col(Poll.occurrence_id).label("occurrence_id"),
            col(PollVote.option).label("option"),
            func.row_number()
            .over(
                partition_by=(col(PollVote.poll_id), col(PollVote.voter)),
                order_by=(col(PollVote.at).desc(), col(PollVote.option)),
            )
            .label("rank"),
        )
        .join(Poll, col(Poll.id) == col(PollVote.poll_id))
        .join(Occurrence, col(Occurrence.id) == col(Poll.occurrence_id))
        .where(col(Poll.community_id) == community_id, col(PollVote.chosen))
        .where(col(Occurrence.starts_at) >= since, col(Occurrence.starts_at) < until)
        .subquery()
    )
    return (
        select(ranked.c.occurrence_id, (literal(PULSE_SCORE_TOP) - ranked.c.option).label("score"))
        .where(ranked.c.rank == 1, ranked.c.option.between(1, len(PULSE_OPTIONS)))
        .subquery()
    )


async def _people(session: AsyncSession, community_id: int, period: Period) -> tuple[int, ...]:
    """(active, new) in this period and in the one before: members who did anything (came,
    answered, voted, shared, celebrated, thanked, anything the activity log holds); new
    ones joined during the period."""
    start, end = period.before, period.until
    in_community = and_(col(Ritual.community_id) == community_id)
    arms = union_all(
        select(col(Attendance.user_id).label("user_id"), col(Occurrence.starts_at).label("at"))
        .join(Occurrence, col(Occurrence.id) == col(Attendance.occurrence_id))
        .join(Ritual, col(Ritual.id) == col(Occurrence.ritual_id))
        .where(in_community, col(Occurrence.starts_at) >= start, col(Occurrence.starts_at) < end),
        select(col(Rsvp.user_id), col(Rsvp.at))
        .join(Occurrence, col(Occurrence.id) == col(Rsvp.occurrence_id))
        .join(Ritual, col(Ritual.id) == col(Occurrence.ritual_id))
        .where(in_community, col(Occurrence.starts_at) >= start)
        .where(col(Rsvp.at) >= start, col(Rsvp.at) < end),
        select(col(PollVote.voter), col(PollVote.at))
        .join(Poll, col(Poll.id) == col(PollVote.poll_id))
        .where(col(Poll.community_id) == community_id)
        .where(col(PollVote.at) >= start, col(PollVote.at) < end),
        select(col(Activity.user_id), col(Activity.at)).where(
            col(Activity.community_id) == community_id,
            col(Activity.at) >= start,
            col(Activity.at) < end,
        ),
        select(col(Resource.shared_by), col(Resource.created_at)).where(
            col(Resource.community_id) == community_id,
            col(Resource.status) == PUBLISHED,
            col(Resource.created_at) >= start,
            col(Resource.created_at) < end,
        ),
        select(col(Win.user_id), col(Win.created_at)).where(
            col(Win.community_id) == community_id,
            col(Win.created_at) >= start,
            col(Win.created_at) < end,
        ),
        select(col(Kudos.from_user), col(Kudos.created_at)).where(
            col(Kudos.community_id) == community_id,
            col(Kudos.created_at) >= start,
            col(Kudos.created_at) < end,
        ),
    ).subquery()
    member = Member.__table__.alias("m")  # type: ignore[attr-defined]
    this = arms.c.at >= period.since
    joined_now = member.c.joined_at >= period.since
    joined_before = member.c.joined_at >= period.before
    query = (
        select(
            func.count(distinct(case((this, arms.c.user_id)))),
            func.count(distinct(case((and_(this, joined_now), arms.c.user_id)))),
            func.count(distinct(case((~this, arms.c.user_id)))),
            func.count(distinct(case((and_(~this, joined_before, ~joined_now), arms.c.user_id)))),
        )
        .select_from(arms)
        .join(
            member,
            and_(member.c.community_id == community_id, member.c.user_id == arms.c.user_id),
        )
    )
    row = (await session.exec(query)).one()  # type: ignore[call-overload]
    return tuple(int(value or 0) for value in row)


async def _counts(
    session: AsyncSession, community_id: int, period: Period
) -> tuple[dict[str, int], dict[str, int]]:
    """Resources added, wins and kudos, in this period and in the one before."""

    def split(created: Any, where: ColumnElement[bool]) -> list[Any]:
        bounded = and_(where, created >= period.before, created < period.until)
        return [
            select(func.count()).where(bounded, created >= period.since).scalar_subquery(),
            select(func.count()).where(bounded, created < period.since).scalar_subquery(),
        ]

    resource = and_(col(Resource.community_id) == community_id, col(Resource.status) == PUBLISHED)
    columns = [
        *split(col(Resource.created_at), resource),
        *split(col(Win.created_at), col(Win.community_id) == community_id),
        *split(col(Kudos.created_at), col(Kudos.community_id) == community_id),
    ]
    row = (await session.exec(select(*columns))).one()  # type: ignore[call-overload]
    values = [int(v or 0) for v in row]
    return (
        {"resources": values[0], "wins": values[2], "kudos": values[4]},
        {"resources": values[1], "wins": values[3], "kudos": values[5]},
    )


async def _names(session: AsyncSession, community_id: int, users: set[str]) -> dict[str, str]:
    """The display names of `users` in the community (the people warnings name)."""
    if not users:
        return {}
    rows = await session.exec(
        select(col(Member.user_id), col(Member.display_name)).where(  # type: ignore[call-overload]
            col(Member.community_id) == community_id, col(Member.user_id).in_(sorted(users))
        )
    )
    return {user_id: name for user_id, name in rows.all()}


async def _warnings(
    session: AsyncSession,
    community: Community,
    period: Period,
    now: datetime,
) -> list[dict[str, Any]]:
    """The warnings the database answers: rituals without a facilitator ahead, a long
    silence, newcomers who never came to a meeting."""
    assert community.id is not None
    community_id = community.id
    warnings: list[dict[str, Any]] = []
    unled = await session.exec(
        select(  # type: ignore[call-overload]
            col(Ritual.number),
            col(Ritual.title),
            func.count(),
            func.min(col(Occurrence.starts_at)),
        )
        .join(Ritual, col(Ritual.id) == col(Occurrence.ritual_id))
        .where(_held(community_id), col(Ritual.status) == ALIVE, col(Ritual.rotate))
        .where(col(Occurrence.starts_at) >= now, col(Occurrence.starts_at) < now + UPCOMING)
        .where(col(Occurrence.facilitator_id).is_(None))
        .group_by(col(Ritual.number), col(Ritual.title))
        .order_by(col(Ritual.number))
    )
    for number, title, count, first in unled.all():
        warnings.append(
            {
                "kind": "unled",
                "number": number,
                "title": title,
                "meetings": int(count),
                "first": first.isoformat() if hasattr(first, "isoformat") else str(first),
            }
        )
    last = await _last_activity(session, community_id, since=period.before)
    quiet_since = last or max(period.before, _aware(community.created_at))
    if now - quiet_since >= SILENCE:
        warnings.append(
            {"kind": "silence", "days": (now - quiet_since).days, "at_least": last is None}
        )
    newcomers = await _newcomers_never_came(session, community_id, period)
    if newcomers:
        warnings.append({"kind": "newcomers", "people": newcomers})
    return warnings


def _meeting_warnings(every: list[Session], this: list[Session]) -> list[dict[str, Any]]:
    warnings: list[dict[str, Any]] = [
        {"kind": "falling", **falling} for falling in falling_attendance(every)
    ]
    found = carrying(this)
    if found is not None:
        person, led, total = found
        warnings.append({"kind": "carrying", "person": person, "led": led, "of": total})
    return warnings


async def _last_activity(
    session: AsyncSession, community_id: int, *, since: datetime
) -> datetime | None:
    """The latest thing anyone did in the community since `since` (None: nothing)."""
    in_community = col(Ritual.community_id) == community_id

    def latest(column: Any, *where: Any) -> Any:
        return select(func.max(column)).where(*where, column >= since).scalar_subquery()

    def meeting(column: Any, occurrence: Any) -> Any:
        return (
            select(func.max(column))
            .join(Occurrence, col(Occurrence.id) == occurrence)
            .join(Ritual, col(Ritual.id) == col(Occurrence.ritual_id))
            .where(in_community, col(Occurrence.starts_at) >= since, column >= since)
            .scalar_subquery()
        )

    row = (
        await session.exec(
            select(  # type: ignore[call-overload]
                latest(col(Activity.at), col(Activity.community_id) == community_id),
                meeting(col(Rsvp.at), col(Rsvp.occurrence_id)),
                meeting(col(Attendance.at), col(Attendance.occurrence_id)),
                select(func.max(col(PollVote.at)))
                .join(Poll, col(Poll.id) == col(PollVote.poll_id))
                .where(col(Poll.community_id) == community_id, col(PollVote.at) >= since)
                .scalar_subquery(),
                latest(col(Resource.created_at), col(Resource.community_id) == community_id),
                latest(col(Win.created_at), col(Win.community_id) == community_id),
                latest(col(Kudos.created_at), col(Kudos.community_id) == community_id),
            )
        )
    ).one()
    moments = [_aware(value) for value in row if value is not None]
    return max(moments) if moments else None


def _aware(value: Any) -> datetime:
    """A MAX() over a timestamp column (SQLite gives it back as naive text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _newcomers_never_came(
    session: AsyncSession, community_id: int, period: Period
) -> list[str]:
    """Members who joined in this period, have missed at least one meeting people came to
    since, and have come to none."""
    occurrence = Occurrence.__table__.alias("o")  # type: ignore[attr-defined]
    ritual = Ritual.__table__.alias("r")  # type: ignore[attr-defined]
    came = Attendance.__table__.alias("a")  # type: ignore[attr-defined]
    since_joining = (
        select(literal(1))
        .select_from(came)
        .join(occurrence, occurrence.c.id == came.c.occurrence_id)
        .join(ritual, ritual.c.id == occurrence.c.ritual_id)
        .where(ritual.c.community_id == community_id)
        .where(occurrence.c.starts_at > col(Member.joined_at))
        .where(occurrence.c.starts_at < period.until)
        .exists()
    )
    own = Attendance.__table__.alias("own")  # type: ignore[attr-defined]
    own_occurrence = Occurrence.__table__.alias("oo")  # type: ignore[attr-defined]
    own_ritual = Ritual.__table__.alias("orr")  # type: ignore[attr-defined]
    ever_came = (
        select(literal(1))
        .select_from(own)
        .join(own_occurrence, own_occurrence.c.id == own.c.occurrence_id)
        .join(own_ritual, own_ritual.c.id == own_occurrence.c.ritual_id)
        .where(own_ritual.c.community_id == community_id, own.c.user_id == col(Member.user_id))
        .exists()
    )
    rows = await session.exec(
        select(col(Member.user_id))  # type: ignore[call-overload]
        .where(col(Member.community_id) == community_id, col(Member.active))
        .where(col(Member.joined_at) >= period.since, col(Member.joined_at) < period.until)
        .where(since_joining, ~ever_came)
        .order_by(col(Member.joined_at), col(Member.id))
    )
    return [user_id for (user_id,) in rows.all()]
