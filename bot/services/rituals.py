"""Rituals: adding and changing a community's recurring gatherings, their coming meetings,
attendance, and the calendar feed that mirrors them.

Every change bumps the ritual's `sequence` (calendar clients take the newest) and
materialises its meetings again, so meetings that left the schedule are marked removed."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.errors import UserError
from bot.events import Origin, UserRef
from bot.services.activity import record
from bot.services.calendars import calendar_secret, feed_url, occurrence_url
from bot.services.occurrences import RECURRENCE_ID_FORMAT, SCHEDULED, ensure_occurrences
from bot.services.rotation import names_in, plan_facilitators
from bot.services.transactions import in_transaction
from bot.services.upcoming import (
    ACTIVE,
    CANCELLED,
    find_ritual,
    live_rituals,
    local_day,
    materialise,
    schedule_of,
)
from rituals import recurrence
from rituals.calendar import CalendarEntry, community_feed, occurrence_file
from rituals.catalog import RitualTemplate, find_template
from rituals.schedule import (
    Schedule,
    parse_duration,
    parse_reminders,
    parse_schedule,
)
from rituals.walltime import to_instant
from storage.database import Database
from storage.models import (
    Attendance,
    Community,
    CommunityCalendar,
    Member,
    Occurrence,
    Ritual,
    Rsvp,
    Workspace,
)

TITLE_MAX = 120
LOCATION_MAX = 500
DEFAULT_REMINDERS = "1d,1h"
NO_REMINDERS = ("off", "none", "no")
SHOWN = 3  # meetings shown after an addition or a change
YEARS_AHEAD = 10  # how far from today a meeting may be (dates far out overflow instants)
GOING = "going"


@dataclass(frozen=True, kw_only=True)
class RitualInput:
    """What `ritual add` or `ritual edit` asks for, as typed; None keeps the template's
    default (add) or the current value (edit)."""

    title: str | None = None
    schedule: str | None = None
    duration: str | None = None
    remind: str | None = None
    rotate: bool | None = None
    where: str | None = None
    pulse: bool | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, name) is None for name in self.__dataclass_fields__)


@dataclass(frozen=True, kw_only=True)
class Saved:
    """A ritual after it was added or changed (`change`), with its next meetings. `when` is
    the meeting a skip or move was about (its former start), `to` where a move put it."""

    ritual: Ritual
    change: str
    meetings: Sequence[Occurrence]
    names: dict[str, str]
    when: datetime | None = None
    to: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Listed:
    """A ritual with its next meeting (None when none is to come)."""

    ritual: Ritual
    next_start: datetime | None


@dataclass(frozen=True, kw_only=True)
class Detail:
    ritual: Ritual
    meetings: Sequence[Occurrence]
    names: dict[str, str]
    feed: str
    links: dict[int, str]  # occurrence id -> its .ics


@dataclass(frozen=True, kw_only=True)
class Meeting:
    ritual: Ritual
    occurrence: Occurrence


@dataclass(frozen=True, kw_only=True)
class Agenda:
    """The community's coming meetings across its rituals, soonest first."""

    meetings: Sequence[Meeting]
    names: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class Attended:
    ritual: Ritual
    occurrence: Occurrence
    present: set[str]
    added: list[str]
    names: dict[str, str]


def is_paused(schedule: Schedule, now: datetime) -> bool:
    held = schedule.pause
    return held is not None and held.start <= now and (held.end is None or now < held.end)


async def attendance(session: AsyncSession, occurrence: Occurrence) -> set[str]:
    """Who came to `occurrence`: the recorded attendance, or when nobody recorded any, the
    people who answered "going"."""
    recorded = await session.exec(
        select(Attendance.user_id).where(Attendance.occurrence_id == occurrence.id)
    )
    present = set(recorded.all())
    if present:
        return present
    going = await session.exec(
        select(Rsvp.user_id).where(Rsvp.occurrence_id == occurrence.id, Rsvp.answer == GOING)
    )
    return set(going.all())


def _minutes(offsets: Sequence[timedelta]) -> list[int]:
    return [int(offset.total_seconds() // 60) for offset in offsets]


class RitualService:
    """Owns a community's rituals: numbers, schedules, meetings, attendance, the feed."""

    def __init__(self, database: Database, clock: Clock, *, base_url: str) -> None:
        self._database = database
        self._clock = clock
        self._base_url = base_url

    # Adding ----------------------------------------------------------------------------

    async def add(
        self, community: Community, origin: Origin, template_name: str, wanted: RitualInput
    ) -> Saved:
        """A new ritual from a template, numbered next in the community (`#N`)."""
        template = find_template(template_name)
        now = self._clock.now()
        schedule = parse_schedule(
            wanted.schedule or template.cadence, default_zone=community.timezone, now=now
        )
        _within_reach(schedule, now)
        fields = self._fields(wanted, template, schedule)

        async def work(session: AsyncSession) -> Saved:
            assert community.id is not None
            highest = await session.exec(
                select(func.max(Ritual.number)).where(Ritual.community_id == community.id)
            )
            ritual = Ritual(
                community_id=community.id,
                number=(highest.first() or 0) + 1,
                template=template.key,
                agenda="\n".join(template.agenda),
                schedule=schedule.to_json(),
                uid=f"ritual-{secrets.token_hex(10)}@copbot",
                created_by=origin.user,
                created_at=now,
                updated_at=now,
                **fields,
            )
            session.add(ritual)
            await session.flush()  # a number taken meanwhile fails here, and is retried
            record(session, community, origin.user, "ritual.added", now, ritual=ritual.number)
            return await self._saved(session, ritual, "added")

        return await in_transaction(self._database, work)

    def _fields(
        self, wanted: RitualInput, template: RitualTemplate, schedule: Schedule
    ) -> dict[str, Any]:
        length = parse_duration(wanted.duration) if wanted.duration else template.duration
        return {
            "title": _title(wanted.title or template.title),
            "location": _where(wanted.where or ""),
            "duration_minutes": int(length.total_seconds() // 60),
            "reminders": self._reminders(wanted.remind or DEFAULT_REMINDERS, schedule),
            "rotate": template.rotates_facilitator if wanted.rotate is None else wanted.rotate,
            "pulse": True if wanted.pulse is None else wanted.pulse,
        }

    @staticmethod
    def _reminders(text: str, schedule: Schedule) -> list[int]:
        if text.strip().lower() in NO_REMINDERS:
            return []
        return _minutes(parse_reminders(text, schedule=schedule))

    # Reading ---------------------------------------------------------------------------

    async def listing(self, community: Community) -> list[Listed]:
        """The community's rituals that are not cancelled, by number, with their next meeting
        (computed from the schedule; nothing is written)."""
        assert community.id is not None
        now = self._clock.now()
        async with self._database.read() as session:
            rituals = await live_rituals(session, community.id)
        listed = []
        for ritual in rituals:
            upcoming = recurrence.next_occurrence(schedule_of(ritual), now=now)
            start = None if upcoming is None else upcoming.start
            listed.append(Listed(ritual=ritual, next_start=start))
        return listed

    async def detail(self, community: Community, number: int) -> Detail:
        """One ritual with its next meetings, each with an "add to calendar" link."""

        async def work(session: AsyncSession) -> Detail:
            assert community.id is not None
            ritual = await find_ritual(session, community.id, number)
            meetings = await self._coming(session, ritual, SHOWN)
            secret = await calendar_secret(session, community.id)
            links = {
                row.id: occurrence_url(self._base_url, secret, row.id)
                for row in meetings
                if row.id is not None
            }
            return Detail(
                ritual=ritual,
                meetings=meetings,
                names=await names_in(session, community.id),
                feed=feed_url(self._base_url, secret),
                links=links,
            )

        return await in_transaction(self._database, work)

    async def agenda(self, community: Community, count: int) -> Agenda:
        """The next `count` meetings across the community's rituals, with facilitators."""

        async def work(session: AsyncSession) -> Agenda:
            assert community.id is not None
            rituals = await live_rituals(session, community.id)
            # Only the meetings among the soonest `count` are needed from each ritual (a
            # monthly one may give one where a weekly one gives four).
            now = self._clock.now()
            starts = {
                ritual.id: [
                    o.start for o in recurrence.upcoming(schedule_of(ritual), now=now, count=count)
                ]
                for ritual in rituals
            }
            soonest = sorted(start for found in starts.values() for start in found)[:count]
            meetings: list[Meeting] = []
            for ritual in rituals:
                wanted = sum(1 for start in starts[ritual.id] if soonest and start <= soonest[-1])
                if wanted:
                    rows = await self._coming(session, ritual, wanted)
                    meetings.extend(Meeting(ritual=ritual, occurrence=row) for row in rows)
            meetings.sort(key=lambda m: (m.occurrence.starts_at, m.ritual.number))
            return Agenda(meetings=meetings[:count], names=await names_in(session, community.id))

        return await in_transaction(self._database, work)

    async def feed_link(self, community: Community) -> str:
        async def work(session: AsyncSession) -> str:
            assert community.id is not None
            return feed_url(self._base_url, await calendar_secret(session, community.id))

        return await in_transaction(self._database, work)

    async def _coming(self, session: AsyncSession, ritual: Ritual, count: int) -> list[Occurrence]:
        """The ritual's next `count` meetings as rows, facilitators planned.

        When the stored rows already are those meetings, each with a facilitator who is
        still a member (or the ritual does not rotate), they are read as they are: showing
        meetings writes nothing then. Otherwise they are materialised and planned first."""
        if ritual.status != ACTIVE:
            return []
        now = self._clock.now()
        expected = [o.start for o in recurrence.upcoming(schedule_of(ritual), now=now, count=count)]
        stored = list(
            (
                await session.exec(
                    select(Occurrence)
                    .where(
                        Occurrence.ritual_id == ritual.id,
                        col(Occurrence.status) == SCHEDULED,
                        col(Occurrence.starts_at) >= now,
                    )
                    .order_by(col(Occurrence.starts_at))
                    .limit(count)
                )
            ).all()
        )
        if [row.starts_at for row in stored] == expected:
            if not ritual.rotate:
                return stored
            members = await active_members(session, ritual.community_id)
            if all(row.facilitator_id in members for row in stored):
                return stored
        rows = await materialise(session, ritual, now=now, count=count)
        await plan_facilitators(session, ritual, rows, today=local_day(ritual, now))
        return rows[:count]

    # Changing --------------------------------------------------------------------------

    async def skip(
        self, community: Community, origin: Origin, number: int, day: date | None
    ) -> Saved:
        """Leave out one meeting (the next one by default)."""

        def change(ritual: Ritual, schedule: Schedule, now: datetime) -> _Change:
            meeting = self._meeting(ritual, schedule, day, now)
            return _Change(schedule=recurrence.skip(schedule, meeting, now=now), when=meeting)

        return await self._change(community, origin, number, "skipped", change)

    async def move(
        self,
        community: Community,
        origin: Origin,
        number: int,
        day: date,
        to_day: date,
        at: time | None,
    ) -> Saved:
        """Move the meeting on `day` to `to_day` (at its usual time unless `at` says)."""

        def change(ritual: Ritual, schedule: Schedule, now: datetime) -> _Change:
            meeting = self._meeting(ritual, schedule, day, now)
            wall = datetime.combine(to_day, at or meeting.recurrence_id.time())
            moved = recurrence.move(schedule, meeting, to=wall, now=now)
            return _Change(schedule=moved, when=meeting, to=wall)

        return await self._change(community, origin, number, "moved", change)

    async def edit(
        self, community: Community, origin: Origin, number: int, wanted: RitualInput
    ) -> Saved:
        """Change a ritual from its next meeting on. A new schedule ends the old series at its
        last meeting (kept in the calendar under its own UID) and starts the new one."""
        if wanted.empty:
            raise UserError("ritual_edit_nothing", usage="ritual edit")

        def change(ritual: Ritual, schedule: Schedule, now: datetime) -> _Change:
            current = schedule
            ended: Schedule | None = None
            if wanted.schedule is not None:
                new = parse_schedule(wanted.schedule, default_zone=schedule.zone, now=now)
                _within_reach(new, now)
                edit = recurrence.edit_from(schedule, new, now=now)
                current, ended = edit.current, edit.ended
            fields: dict[str, Any] = {}
            if wanted.title is not None:
                fields["title"] = _title(wanted.title)
            if wanted.where is not None:
                fields["location"] = _where(wanted.where)
            if wanted.duration is not None:
                minutes = parse_duration(wanted.duration).total_seconds() // 60
                fields["duration_minutes"] = int(minutes)
            if wanted.remind is not None:
                fields["reminders"] = self._reminders(wanted.remind, current)
            elif ritual.reminders:
                # The reminders kept must still fit between the meetings of the new schedule.
                offsets = ",".join(f"{m}m" for m in ritual.reminders)
                fields["reminders"] = self._reminders(offsets, current)
            for name, value in (("rotate", wanted.rotate), ("pulse", wanted.pulse)):
                if value is not None:
                    fields[name] = value
            return _Change(schedule=current, ended=ended, fields=fields)

        return await self._change(community, origin, number, "edited", change)

    async def pause(
        self, community: Community, origin: Origin, number: int, until: date | None
    ) -> Saved:
        """No meetings from now until `until` (a local date; None: until resumed)."""

        def change(ritual: Ritual, schedule: Schedule, now: datetime) -> _Change:
            return _Change(schedule=recurrence.pause(schedule, now=now, until=until))

        return await self._change(community, origin, number, "paused", change)

    async def resume(self, community: Community, origin: Origin, number: int) -> Saved:
        def change(ritual: Ritual, schedule: Schedule, now: datetime) -> _Change:
            return _Change(schedule=recurrence.resume(schedule, now=now))

        return await self._change(community, origin, number, "resumed", change)

    async def cancel(self, community: Community, origin: Origin, number: int) -> Saved:
        """End the ritual: its coming meetings are removed and it leaves the feed."""

        def change(ritual: Ritual, schedule: Schedule, now: datetime) -> _Change:
            return _Change(schedule=schedule, fields={"status": CANCELLED})

        return await self._change(community, origin, number, "cancelled", change)

    async def meeting_id(self, community: Community, number: int, day: date | None) -> int:
        """The id of ritual `#number`'s meeting on `day` (or its next one), made a row if it
        is not one yet, for answering it by command."""

        async def work(session: AsyncSession) -> int:
            assert community.id is not None
            ritual = await find_ritual(session, community.id, number)
            if ritual.status != ACTIVE:
                raise UserError("ritual_cancelled", number=ritual.number, title=ritual.title)
            meeting = self._meeting(ritual, schedule_of(ritual), day, self._clock.now())
            end = meeting.start + timedelta(microseconds=1)
            [row] = await ensure_occurrences(session, ritual, start=meeting.start, end=end)
            assert row.id is not None
            return row.id

        return await in_transaction(self._database, work)

    def _meeting(
        self, ritual: Ritual, schedule: Schedule, day: date | None, now: datetime
    ) -> recurrence.Occurrence:
        """The meeting on `day`, or the next one."""
        if day is not None:
            return recurrence.occurrence_on(schedule, day, now=now)
        found = recurrence.next_occurrence(schedule, now=now)
        if found is None:
            raise UserError("no_meetings_ahead", number=ritual.number, title=ritual.title)
        return found

    async def _change(
        self,
        community: Community,
        origin: Origin,
        number: int,
        change: str,
        how: Callable[[Ritual, Schedule, datetime], _Change],
    ) -> Saved:
        """Apply `how` to the ritual in one transaction: a new schedule and fields, the
        sequence bumped, the meetings materialised again and facilitators re-planned."""

        async def work(session: AsyncSession) -> Saved:
            assert community.id is not None
            ritual = await find_ritual(session, community.id, number, lock=True)
            if ritual.status != ACTIVE:
                raise UserError("ritual_cancelled", number=ritual.number, title=ritual.title)
            now = self._clock.now()
            done = how(ritual, schedule_of(ritual), now)
            before = await self._fixed_facilitator(session, ritual, done)
            if done.ended is not None:
                ended = {
                    "uid": f"ended-{len(ritual.past_series) + 1}-{ritual.uid}",
                    "sequence": ritual.sequence + 1,
                    "schedule": done.ended.to_json(),
                    "duration_minutes": ritual.duration_minutes,
                }
                ritual.past_series = [*ritual.past_series, ended]
            ritual.schedule = done.schedule.to_json()
            for name, value in done.fields.items():
                setattr(ritual, name, value)
            ritual.sequence += 1
            ritual.updated_at = now
            session.add(ritual)
            moved_to = recurrence_start(done.schedule, done.to)
            rows = await materialise(session, ritual, now=now, until=moved_to)
            length = timedelta(minutes=ritual.duration_minutes)
            for row in rows:
                row.ends_at = row.starts_at + length
                session.add(row)
            if before is not None and done.to is not None:
                self._carry_facilitator(before, rows, done.schedule, done.to)
            await plan_facilitators(session, ritual, rows, today=local_day(ritual, now))
            record(session, community, origin.user, f"ritual.{change}", now, ritual=number)
            return await self._saved(
                session,
                ritual,
                change,
                when=done.when.start if done.when else None,
                to=moved_to,
            )

        return await in_transaction(self._database, work)

    @staticmethod
    async def _fixed_facilitator(
        session: AsyncSession, ritual: Ritual, done: _Change
    ) -> Occurrence | None:
        """The row of a meeting about to move, when someone was chosen or confirmed for it."""
        if done.when is None or done.to is None:
            return None
        row = (
            await session.exec(
                select(Occurrence).where(
                    Occurrence.ritual_id == ritual.id, Occurrence.starts_at == done.when.start
                )
            )
        ).first()
        if row is None or not (row.facilitator_assigned or row.facilitator_confirmed):
            return None
        return row

    @staticmethod
    def _carry_facilitator(
        before: Occurrence, rows: list[Occurrence], schedule: Schedule, to: datetime
    ) -> None:
        """A moved meeting keeps the facilitator chosen for it."""
        start = recurrence_start(schedule, to)
        for row in rows:
            if row.starts_at == start:
                row.facilitator_id = before.facilitator_id
                row.facilitator_assigned = before.facilitator_assigned
                row.facilitator_confirmed = before.facilitator_confirmed

    async def _saved(
        self,
        session: AsyncSession,
        ritual: Ritual,
        change: str,
        *,
        when: datetime | None = None,
        to: datetime | None = None,
    ) -> Saved:
        meetings = await self._coming(session, ritual, SHOWN)
        return Saved(
            ritual=ritual,
            change=change,
            meetings=meetings,
            names=await names_in(session, ritual.community_id),
            when=when,
            to=to,
        )

    # Attendance ------------------------------------------------------------------------

    async def attended(
        self,
        community: Community,
        origin: Origin,
        number: int,
        people: Sequence[UserRef],
        day: date | None,
    ) -> Attended:
        """Record that `people` came to the ritual's latest meeting (or the one on `day`)."""
        if not people:
            raise UserError("attendees_missing", usage="ritual attended")

        async def work(session: AsyncSession) -> Attended:
            assert community.id is not None
            ritual = await find_ritual(session, community.id, number, lock=True)
            row = await self._past_meeting(session, ritual, day)
            assert row.id is not None
            now = self._clock.now()
            before = await attendance_recorded(session, row)
            added = [p.id for p in dict.fromkeys(people) if p.id not in before]
            if added:
                dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
                await session.exec(
                    dialect.insert(Attendance)  # type: ignore[attr-defined]
                    .values(
                        [
                            {"occurrence_id": row.id, "user_id": user, "recorded_by": origin.user}
                            | {"at": now}
                            for user in added
                        ]
                    )
                    .on_conflict_do_nothing(index_elements=["occurrence_id", "user_id"])
                )
            record(
                session,
                community,
                origin.user,
                "ritual.attended",
                now,
                ritual=number,
                starts_at=row.starts_at.isoformat(),
                people=len(added),
            )
            return Attended(
                ritual=ritual,
                occurrence=row,
                present=await attendance(session, row),
                added=added,
                names={
                    **{p.id: p.label for p in people},
                    **await names_in(session, community.id),
                },
            )

        return await in_transaction(self._database, work)

    async def _past_meeting(
        self, session: AsyncSession, ritual: Ritual, day: date | None
    ) -> Occurrence:
        """The latest meeting that has begun (or the one on `day`), as a row."""
        now = self._clock.now()
        schedule = schedule_of(ritual)
        stored = select(Occurrence).where(
            Occurrence.ritual_id == ritual.id,
            col(Occurrence.status) == SCHEDULED,
            col(Occurrence.starts_at) <= now,
        )
        if day is not None:
            rows = (await session.exec(stored.order_by(col(Occurrence.starts_at).desc()))).all()
            for row in rows:
                if local_day(ritual, row.starts_at) == day:
                    return row
            meeting = recurrence.occurrence_on(schedule, day)
            if meeting.start > now:
                raise UserError("meeting_not_yet", date=day.isoformat())
        else:
            latest = (
                await session.exec(stored.order_by(col(Occurrence.starts_at).desc()).limit(1))
            ).first()
            found = recurrence.last_before(schedule, now=now + timedelta(microseconds=1))
            if found is None or (latest is not None and latest.starts_at >= found.start):
                if latest is None:
                    raise UserError("no_meeting_yet", number=ritual.number, title=ritual.title)
                return latest
            meeting = found
        if ritual.status != ACTIVE:
            raise UserError("ritual_cancelled", number=ritual.number, title=ritual.title)
        end = meeting.start + timedelta(microseconds=1)
        [row] = await ensure_occurrences(session, ritual, start=meeting.start, end=end)
        return row

    # The calendar ----------------------------------------------------------------------

    async def calendar(self, secret: str) -> bytes | None:
        """The community feed behind `secret` (None if no community has it)."""
        async with self._database.session() as session:
            community = await self._community_of(session, secret)
            if community is None:
                return None
            return await self._feed(session, community)

    async def calendar_of_channel(
        self, platform: str, workspace: str, channel: str
    ) -> bytes | None:
        """The feed of the community bound to a channel (None if there is none)."""
        async with self._database.session() as session:
            community = (
                await session.exec(
                    select(Community)
                    .join(Workspace, col(Workspace.id) == Community.workspace_id)
                    .where(
                        Workspace.platform == platform,
                        Workspace.external_id == workspace,
                        Community.channel_id == channel,
                    )
                )
            ).first()
            if community is None:
                return None
            return await self._feed(session, community)

    async def meeting_file(self, secret: str, occurrence_id: int) -> bytes | None:
        """One meeting's .ics, if it belongs to the community behind `secret` and still
        takes place."""
        async with self._database.session() as session:
            community = await self._community_of(session, secret)
            row = await session.get(Occurrence, occurrence_id)
            if community is None or row is None or row.status != SCHEDULED:
                return None
            ritual = await session.get(Ritual, row.ritual_id)
            if ritual is None or ritual.community_id != community.id:
                return None
        schedule = schedule_of(ritual)
        meeting = recurrence.Occurrence(
            start=row.starts_at,
            local=row.starts_at.astimezone(schedule.tz),
            recurrence_id=datetime.strptime(row.recurrence_id, RECURRENCE_ID_FORMAT),
        )
        entry = replace(self._entry(ritual), duration=row.ends_at - row.starts_at)
        return occurrence_file(
            entry, meeting, uid=f"meeting-{row.id}-{ritual.uid}", stamp=self._clock.now()
        )

    @staticmethod
    async def _community_of(session: AsyncSession, secret: str) -> Community | None:
        found = (
            await session.exec(select(CommunityCalendar).where(CommunityCalendar.secret == secret))
        ).first()
        return None if found is None else await session.get(Community, found.community_id)

    async def _feed(self, session: AsyncSession, community: Community) -> bytes:
        assert community.id is not None
        rituals = await live_rituals(session, community.id)
        entries = []
        for ritual in rituals:
            entry = self._entry(ritual)
            for ended in ritual.past_series:
                entries.append(
                    replace(
                        entry,
                        uid=ended["uid"],
                        sequence=ended["sequence"],
                        schedule=Schedule.from_json(ended["schedule"]),
                        duration=timedelta(minutes=ended["duration_minutes"]),
                    )
                )
            entries.append(entry)
        return community_feed(entries, name=community.name, stamp=self._clock.now())

    @staticmethod
    def _entry(ritual: Ritual) -> CalendarEntry:
        return CalendarEntry(
            uid=ritual.uid,
            sequence=ritual.sequence,
            summary=ritual.title,
            schedule=schedule_of(ritual),
            duration=timedelta(minutes=ritual.duration_minutes),
            description=ritual.agenda or None,
            location=ritual.location or None,
        )


@dataclass(frozen=True, kw_only=True)
class _Change:
    """What a change makes of a ritual: its schedule, the series it ended, other fields;
    `when` the meeting it was about and `to` the wall time a move put it at."""

    schedule: Schedule
    ended: Schedule | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    when: recurrence.Occurrence | None = None
    to: datetime | None = None


def _within_reach(schedule: Schedule, now: datetime) -> None:
    if schedule.start.year - now.year > YEARS_AHEAD:
        raise UserError("date_out_of_range", date=f"{schedule.start:%Y-%m-%d}", years=YEARS_AHEAD)


def _title(text: str) -> str:
    title = " ".join(text.split())
    if not title:
        raise UserError("ritual_title_missing", usage="ritual add")
    if len(title) > TITLE_MAX:
        raise UserError("ritual_title_too_long", limit=TITLE_MAX)
    return title


def _where(text: str) -> str:
    where = text.strip()
    if len(where) > LOCATION_MAX:
        raise UserError("ritual_where_too_long", limit=LOCATION_MAX)
    return where


def recurrence_start(schedule: Schedule, wall: datetime | None) -> datetime | None:
    """The instant a naive wall time in the schedule's zone names."""
    return None if wall is None else to_instant(wall, schedule.tz)


async def active_members(session: AsyncSession, community_id: int) -> set[str]:
    rows = await session.exec(
        select(Member.user_id).where(Member.community_id == community_id, col(Member.active))
    )
    return set(rows.all())


async def attendance_recorded(session: AsyncSession, occurrence: Occurrence) -> set[str]:
    rows = await session.exec(
        select(Attendance.user_id).where(Attendance.occurrence_id == occurrence.id)
    )
    return set(rows.all())
