"""Facilitator rotation over stored meetings: who runs each coming meeting of a ritual, and
the changes people make to that (skip, swap, volunteer, opt out or in, confirm, ask for a
co-facilitator, a steward's assignment), with the fairness ledger of who facilitated when.

`rituals.rotation.plan_rotation` decides the order; this module feeds it the pool (the core
team and whoever volunteered), each person's record, absences and skips, and writes the plan
onto the occurrences (`facilitator_id`; `facilitator_assigned` marks an explicit choice)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.errors import UserError
from bot.events import Origin, UserRef
from bot.services.activity import record
from bot.services.deliveries import OccurrenceHook
from bot.services.occurrences import SCHEDULED
from bot.services.transactions import in_transaction
from bot.services.upcoming import ACTIVE, find_ritual, local_day, materialise, schedule_of
from rituals.absence import AwayPeriod, is_away
from rituals.recurrence import occurrence_on
from rituals.rotation import PoolMember, Slot, plan_rotation, swap
from rituals.walltime import start_of_day, to_wall
from storage.database import Database
from storage.models import (
    Absence,
    Community,
    FacilitatorPool,
    FacilitatorSkip,
    Member,
    Occurrence,
    Ritual,
    Role,
    Workspace,
)

CORE_TEAM = (Role.STEWARD, Role.CORE)  # in the pool without volunteering
SHOWN = 6  # meetings `rotation #N` shows by default
AHEAD = 12  # meetings planned at least, so a person's next turn is found
HISTORY_SHOWN = 12  # past meetings the fairness ledger lists


# The pool, from the database ---------------------------------------------------------------


async def away_periods(
    session: AsyncSession, community_id: int, *, since: date
) -> dict[str, tuple[AwayPeriod, ...]]:
    """Each person's away periods in the community that end on `since` or later."""
    rows = await session.exec(
        select(Absence)
        .where(Absence.community_id == community_id, col(Absence.last_day) >= since)
        .order_by(col(Absence.first_day))
    )
    periods: dict[str, tuple[AwayPeriod, ...]] = {}
    for row in rows:
        period = AwayPeriod(first=row.first_day, last=row.last_day)
        periods[row.user_id] = (*periods.get(row.user_id, ()), period)
    return periods


@dataclass(frozen=True, kw_only=True)
class Pool:
    """A ritual's rotation as it stands before the meetings from `since` on."""

    members: list[PoolMember]
    wishes: dict[str, FacilitatorPool]  # people's own choices, by user id


async def load_pool(session: AsyncSession, ritual: Ritual, *, today: date) -> Pool:
    """Every active member with their record of facilitating meetings before `today`."""
    tz = schedule_of(ritual).tz
    members = (
        await session.exec(
            select(Member)
            .where(Member.community_id == ritual.community_id, col(Member.active))
            .order_by(col(Member.joined_at), col(Member.id))
        )
    ).all()
    wishes = {
        row.user_id: row
        for row in await session.exec(
            select(FacilitatorPool).where(FacilitatorPool.ritual_id == ritual.id)
        )
    }
    ledger = await session.exec(
        select(Occurrence.facilitator_id, func.count(), func.max(Occurrence.starts_at))
        .where(
            Occurrence.ritual_id == ritual.id,
            col(Occurrence.status) == SCHEDULED,
            col(Occurrence.facilitator_id).is_not(None),
            col(Occurrence.starts_at) < start_of_day(today, tz),
        )
        .group_by(col(Occurrence.facilitator_id))
    )
    record_of = {user: (int(times), last) for user, times, last in ledger}
    away = await away_periods(session, ritual.community_id, since=today)
    pool = []
    for order, member in enumerate(members):
        times, last = record_of.get(member.user_id, (0, None))
        wish = wishes.get(member.user_id)
        pool.append(
            PoolMember(
                member_id=member.user_id,
                join_order=order,
                times_facilitated=times,
                last_facilitated=None if last is None else to_wall(last, tz).date(),
                volunteered=wish is not None and wish.volunteered,
                core_team=member.role in CORE_TEAM,
                opted_out=wish is not None and wish.opted_out,
                away=away.get(member.user_id, ()),
            )
        )
    return Pool(members=pool, wishes=wishes)


def _fixed(row: Occurrence) -> bool:
    """A facilitator the plan keeps: chosen explicitly, or confirmed by them."""
    return row.facilitator_id is not None and (
        row.facilitator_assigned or row.facilitator_confirmed
    )


async def plan_facilitators(
    session: AsyncSession, ritual: Ritual, occurrences: list[Occurrence], *, today: date
) -> None:
    """Fill `facilitator_id` (and `co_facilitator_id`) on `occurrences` from the ritual's
    pool, keeping assigned and confirmed facilitators.

    Every scheduled meeting of the ritual from `today` (its local date) to the last of
    `occurrences` is planned with them, in order, so the plan is the same whichever window a
    caller asks about; meetings before `today` are the record the plan starts from. For a
    ritual that does not rotate, facilitators not chosen explicitly are cleared."""
    tz = schedule_of(ritual).tz
    since = start_of_day(today, tz)
    given = [o for o in occurrences if o.starts_at >= since and o.status == SCHEDULED]
    if not given:
        return
    rows = list(
        (
            await session.exec(
                select(Occurrence)
                .where(
                    Occurrence.ritual_id == ritual.id,
                    col(Occurrence.status) == SCHEDULED,
                    col(Occurrence.starts_at) >= since,
                    col(Occurrence.starts_at) <= max(o.starts_at for o in given),
                )
                .order_by(col(Occurrence.starts_at))
            )
        ).all()
    )
    if not ritual.rotate or ritual.status != ACTIVE:
        for row in rows:
            if not _fixed(row):
                row.facilitator_id, row.co_facilitator_id = None, None
                session.add(row)
        return
    pool = await load_pool(session, ritual, today=today)
    days = [to_wall(row.starts_at, tz).date() for row in rows]
    day_of = {row.id: day for row, day in zip(rows, days, strict=True)}
    skips = {
        (day_of[skip.occurrence_id], skip.user_id)
        for skip in await session.exec(
            select(FacilitatorSkip).where(col(FacilitatorSkip.occurrence_id).in_(list(day_of)))
        )
    }
    assignments = {
        day: row.facilitator_id
        for row, day in zip(rows, days, strict=True)
        if _fixed(row) and row.facilitator_id is not None
    }
    slots = plan_rotation(pool.members, days, assignments=assignments, skips=skips)
    times = {m.member_id: m.times_facilitated for m in pool.members}
    for row, slot in zip(rows, slots, strict=True):
        if not _fixed(row):
            row.facilitator_id = slot.facilitator
        row.co_facilitator_id = _co_facilitator(pool, slot, row.facilitator_id, times)
        if row.facilitator_id is not None:
            times[row.facilitator_id] = times.get(row.facilitator_id, 0) + 1
        session.add(row)


def _co_facilitator(
    pool: Pool, slot: Slot, facilitator: str | None, times: dict[str, int]
) -> str | None:
    """An experienced hand beside a first-timer who asked for one: whoever has facilitated
    most, then who joined first; nobody who is away that day."""
    wish = pool.wishes.get(facilitator or "")
    if facilitator is None or wish is None or not wish.wants_co_facilitator:
        return None
    if times.get(facilitator, 0) > 0:
        return None
    candidates = [
        m
        for m in pool.members
        if m.pickable
        and m.member_id != facilitator
        and times.get(m.member_id, 0) > 0
        and not is_away(m.away, slot.day)
    ]
    best = max(candidates, key=lambda m: (times[m.member_id], -m.join_order), default=None)
    return None if best is None else best.member_id


# What the commands get back ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RotationView:
    """A ritual's coming meetings with their facilitators, after `change` (if any) to
    `occurrence`; `notify` is someone to tell about it (the new facilitator)."""

    ritual: Ritual
    meetings: Sequence[Occurrence]
    names: dict[str, str]
    change: str | None = None
    occurrence: Occurrence | None = None
    notify: str | None = None
    person: str | None = None  # whom the change is about, when not the caller


@dataclass(frozen=True, kw_only=True)
class LedgerLine:
    user_id: str
    times: int
    last: date | None
    pickable: bool
    away: bool


@dataclass(frozen=True, kw_only=True)
class Ledger:
    """The fairness ledger: each person's count and last time, and the latest meetings."""

    ritual: Ritual
    people: list[LedgerLine]
    recent: list[Occurrence]
    names: dict[str, str] = field(default_factory=dict)


async def names_in(session: AsyncSession, community_id: int) -> dict[str, str]:
    """Display names of everyone who is or was a member, by user id."""
    rows = await session.exec(
        select(Member.user_id, Member.display_name).where(Member.community_id == community_id)
    )
    return {user: name for user, name in rows}


async def replan_community(session: AsyncSession, community: Community, *, now: datetime) -> None:
    """Plan every rotating ritual of the community again (after an absence changed)."""
    rituals = await session.exec(
        select(Ritual).where(
            Ritual.community_id == community.id, Ritual.status == ACTIVE, col(Ritual.rotate)
        )
    )
    for ritual in rituals.all():
        rows = await materialise(session, ritual, now=now)
        await plan_facilitators(session, ritual, rows, today=local_day(ritual, now))


def facilitator_planner(clock: Clock) -> OccurrenceHook:
    """The delivery sweep's hook: plan facilitators whenever meetings are materialised, so a
    reminder and the facilitator's ask name who the rotation chose."""

    async def plan(session: AsyncSession, ritual: Ritual, occurrences: list[Occurrence]) -> None:
        await plan_facilitators(session, ritual, occurrences, today=local_day(ritual, clock.now()))

    return plan


class RotationService:
    """The rotation commands' rules: who may change which meeting, and the re-planning."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    async def community_for(
        self, origin: Origin, number: int, day: date | None = None
    ) -> tuple[Community, Member] | None:
        """Where a rotation command typed in a direct message belongs (a button on a DM
        runs one): the caller's community whose rotating ritual `#number` it must be, or
        where the caller facilitates its meeting on `day` when several could be."""
        query = (
            select(Community, Member, Ritual)
            .join(Workspace, col(Workspace.id) == Community.workspace_id)
            .join(Member, col(Member.community_id) == Community.id)
            .join(Ritual, col(Ritual.community_id) == Community.id)
            .where(
                Workspace.platform == origin.platform,
                Workspace.external_id == origin.workspace,
                Member.user_id == origin.user,
                col(Member.active),
                Ritual.number == number,
                Ritual.status == ACTIVE,
                col(Ritual.rotate),
            )
        )
        async with self._database.session() as session:
            found = list((await session.exec(query)).all())
            if len(found) > 1 and day is not None:
                found = [f for f in found if await self._turn_on(session, f[2], origin.user, day)]
        if len(found) > 1:
            raise UserError("ritual_ambiguous_here", number=number)
        return (found[0][0], found[0][1]) if found else None

    @staticmethod
    async def _turn_on(session: AsyncSession, ritual: Ritual, user: str, day: date) -> bool:
        rows = await session.exec(
            select(Occurrence.starts_at).where(
                Occurrence.ritual_id == ritual.id,
                Occurrence.facilitator_id == user,
                col(Occurrence.status) == SCHEDULED,
            )
        )
        return any(local_day(ritual, start) == day for start in rows)

    async def show(self, community: Community, number: int, count: int = SHOWN) -> RotationView:
        async def work(session: AsyncSession) -> RotationView:
            ritual, rows = await self._planned(session, community, number, count=count)
            return await self._view(session, ritual, rows, count=count)

        return await in_transaction(self._database, work)

    async def skip(
        self, community: Community, origin: Origin, number: int, day: date | None
    ) -> RotationView:
        """The caller cannot facilitate that meeting: the next person takes it, and the caller
        keeps their place for the one after."""

        async def work(session: AsyncSession) -> RotationView:
            ritual, rows = await self._planned(session, community, number, day=day)
            row = await self._turn_of(session, ritual, rows, origin.user, day)
            assert row.id is not None
            taken = await session.exec(
                select(FacilitatorSkip).where(
                    FacilitatorSkip.occurrence_id == row.id, FacilitatorSkip.user_id == origin.user
                )
            )
            if taken.first() is None:
                session.add(
                    FacilitatorSkip(occurrence_id=row.id, user_id=origin.user, at=self._now())
                )
            self._release(row)
            await self._replan(session, ritual, rows)
            self._record(session, community, origin.user, "rotation.skipped", ritual, row)
            return await self._view(
                session, ritual, rows, change="skipped", occurrence=row, notify=row.facilitator_id
            )

        return await in_transaction(self._database, work)

    async def swap(
        self, community: Community, origin: Origin, number: int, other: UserRef, day: date | None
    ) -> RotationView:
        """The caller's meeting goes to `other`, and `other`'s next one (if any) to the caller."""
        if other.id == origin.user:
            raise UserError("swap_with_self")

        async def work(session: AsyncSession) -> RotationView:
            ritual, rows = await self._planned(session, community, number, day=day)
            row = await self._turn_of(session, ritual, rows, origin.user, day)
            await self._require_member(session, community, other)
            theirs = next(
                (r for r in rows if r.facilitator_id == other.id and r.starts_at > row.starts_at),
                None,
            )
            first = local_day(ritual, row.starts_at)
            if theirs is None:
                exchanged = {first: other.id}
                by_day = {first: row}
            else:
                second = local_day(ritual, theirs.starts_at)
                plan = [
                    Slot(day=first, facilitator=row.facilitator_id),
                    Slot(day=second, facilitator=theirs.facilitator_id),
                ]
                exchanged = swap(plan, first, second)
                by_day = {first: row, second: theirs}
            for when, person in exchanged.items():
                self._assign(by_day[when], person)
            await self._replan(session, ritual, rows)
            self._record(
                session, community, origin.user, "rotation.swapped", ritual, row, other=other.id
            )
            return await self._view(
                session,
                ritual,
                rows,
                change="swapped",
                occurrence=row,
                notify=other.id,
                person=other.id,
            )

        return await in_transaction(self._database, work)

    async def volunteer(
        self, community: Community, origin: Origin, number: int, *, change: str = "volunteered"
    ) -> RotationView:
        """Into the pool: rotation may pick the caller from now on (also `optin`)."""

        async def work(session: AsyncSession) -> RotationView:
            ritual, rows = await self._planned(session, community, number, meetings_needed=False)
            await self._require_member(session, community, UserRef(id=origin.user))
            wish = await self._wish(session, ritual, origin.user)
            wish.volunteered, wish.opted_out = True, False
            session.add(wish)
            await self._replan(session, ritual, rows)
            self._record(session, community, origin.user, f"rotation.{change}", ritual)
            return await self._view(session, ritual, rows, change=change, person=origin.user)

        return await in_transaction(self._database, work)

    async def opt_out(self, community: Community, origin: Origin, number: int) -> RotationView:
        """Out of the pool: the caller's coming turns that they have not confirmed go to
        others."""

        async def work(session: AsyncSession) -> RotationView:
            ritual, rows = await self._planned(session, community, number, meetings_needed=False)
            wish = await self._wish(session, ritual, origin.user)
            wish.opted_out = True
            session.add(wish)
            for row in rows:
                if row.facilitator_id == origin.user and not row.facilitator_confirmed:
                    self._release(row)
            await self._replan(session, ritual, rows)
            self._record(session, community, origin.user, "rotation.opted_out", ritual)
            return await self._view(session, ritual, rows, change="opted_out", person=origin.user)

        return await in_transaction(self._database, work)

    async def confirm(
        self, community: Community, origin: Origin, number: int, day: date | None
    ) -> RotationView:
        """The facilitator says they will run that meeting; the plan keeps them for it."""

        async def work(session: AsyncSession) -> RotationView:
            ritual, rows = await self._planned(session, community, number, day=day)
            row = await self._turn_of(session, ritual, rows, origin.user, day)
            row.facilitator_confirmed = True
            session.add(row)
            self._record(session, community, origin.user, "rotation.confirmed", ritual, row)
            return await self._view(session, ritual, rows, change="confirmed", occurrence=row)

        return await in_transaction(self._database, work)

    async def ask_co_facilitator(
        self, community: Community, origin: Origin, number: int
    ) -> RotationView:
        """A first-timer asks for an experienced co-facilitator at their first meeting."""

        async def work(session: AsyncSession) -> RotationView:
            ritual, rows = await self._planned(session, community, number, meetings_needed=False)
            await self._require_member(session, community, UserRef(id=origin.user))
            pool = await load_pool(session, ritual, today=local_day(ritual, self._now()))
            mine = next(m for m in pool.members if m.member_id == origin.user)
            if mine.times_facilitated:
                raise UserError(
                    "co_facilitator_for_first_timers",
                    number=ritual.number,
                    times=mine.times_facilitated,
                )
            wish = await self._wish(session, ritual, origin.user)
            wish.wants_co_facilitator = True
            session.add(wish)
            await self._replan(session, ritual, rows)
            turn = next((r for r in rows if r.facilitator_id == origin.user), None)
            self._record(session, community, origin.user, "rotation.co_facilitator", ritual)
            return await self._view(
                session,
                ritual,
                rows,
                change="co_facilitator",
                occurrence=turn,
                person=origin.user,
                notify=None if turn is None else turn.co_facilitator_id,
            )

        return await in_transaction(self._database, work)

    async def assign(
        self, community: Community, origin: Origin, number: int, person: UserRef, day: date | None
    ) -> RotationView:
        """A steward names who facilitates a meeting (the next one by default)."""

        async def work(session: AsyncSession) -> RotationView:
            ritual, rows = await self._planned(session, community, number, day=day)
            await self._require_member(session, community, person)
            row = self._row_on(ritual, rows, day) if day is not None else rows[0]
            self._assign(row, person.id)
            await self._replan(session, ritual, rows)
            self._record(
                session, community, origin.user, "rotation.assigned", ritual, row, to=person.id
            )
            return await self._view(
                session,
                ritual,
                rows,
                change="assigned",
                occurrence=row,
                notify=person.id,
                person=person.id,
            )

        return await in_transaction(self._database, work)

    async def history(self, community: Community, number: int) -> Ledger:
        """Who facilitated when and how often; who is in the pool now."""
        async with self._database.session() as session:
            assert community.id is not None
            ritual = await find_ritual(session, community.id, number)
            now = self._now()
            pool = await load_pool(session, ritual, today=local_day(ritual, now))
            recent = (
                await session.exec(
                    select(Occurrence)
                    .where(
                        Occurrence.ritual_id == ritual.id,
                        col(Occurrence.status) == SCHEDULED,
                        col(Occurrence.starts_at) < now,
                    )
                    .order_by(col(Occurrence.starts_at).desc())
                    .limit(HISTORY_SHOWN)
                )
            ).all()
            names = await names_in(session, community.id)
        today = local_day(ritual, now)
        people = [
            LedgerLine(
                user_id=m.member_id,
                times=m.times_facilitated,
                last=m.last_facilitated,
                pickable=m.pickable,
                away=is_away(m.away, today),
            )
            for m in pool.members
            if m.pickable or m.times_facilitated
        ]
        people.sort(key=lambda p: (-p.times, p.last or date.min, p.user_id))
        return Ledger(ritual=ritual, people=people, recent=list(recent), names=names)

    # Helpers ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._clock.now()

    async def _planned(
        self,
        session: AsyncSession,
        community: Community,
        number: int,
        *,
        count: int = SHOWN,
        day: date | None = None,
        meetings_needed: bool = True,
    ) -> tuple[Ritual, list[Occurrence]]:
        """The rotating ritual `#number` (locked) and its coming meetings, planned; refuses
        one with no meetings to come when the command is about meetings."""
        assert community.id is not None
        ritual = await find_ritual(session, community.id, number, lock=True)
        if ritual.status != ACTIVE:
            raise UserError("ritual_cancelled", number=ritual.number, title=ritual.title)
        if not ritual.rotate:
            raise UserError("rotation_off", number=ritual.number, title=ritual.title)
        now = self._now()
        until = None
        if day is not None:
            until = occurrence_on(schedule_of(ritual), day).start
            if until <= now:
                raise UserError("occurrence_past", date=day.isoformat())
        rows = await materialise(session, ritual, now=now, count=max(count, AHEAD), until=until)
        if not rows and meetings_needed:
            raise UserError("no_meetings_ahead", number=ritual.number, title=ritual.title)
        await plan_facilitators(session, ritual, rows, today=local_day(ritual, now))
        return ritual, rows

    async def _replan(self, session: AsyncSession, ritual: Ritual, rows: list[Occurrence]) -> None:
        await plan_facilitators(session, ritual, rows, today=local_day(ritual, self._now()))

    @staticmethod
    def _row_on(ritual: Ritual, rows: list[Occurrence], day: date) -> Occurrence:
        for row in rows:
            if local_day(ritual, row.starts_at) == day:
                return row
        raise UserError("slot_missing", date=day.isoformat())

    async def _turn_of(
        self,
        session: AsyncSession,
        ritual: Ritual,
        rows: list[Occurrence],
        user: str,
        day: date | None,
    ) -> Occurrence:
        """The caller's meeting on `day`, or their next one; refuses if it is not theirs."""
        if day is not None:
            row = self._row_on(ritual, rows, day)
            if row.facilitator_id != user:
                facilitator = None
                if row.facilitator_id is not None:
                    names = await names_in(session, ritual.community_id)
                    facilitator = names.get(row.facilitator_id, row.facilitator_id)
                raise UserError("not_your_turn", date=day.isoformat(), facilitator=facilitator)
            return row
        for row in rows:
            if row.facilitator_id == user:
                return row
        raise UserError("no_turn_ahead", number=ritual.number, title=ritual.title)

    @staticmethod
    def _release(row: Occurrence) -> None:
        row.facilitator_id, row.co_facilitator_id = None, None
        row.facilitator_assigned = row.facilitator_confirmed = False

    @staticmethod
    def _assign(row: Occurrence, user: str) -> None:
        row.facilitator_id = user
        row.facilitator_assigned, row.facilitator_confirmed = True, False

    async def _wish(self, session: AsyncSession, ritual: Ritual, user: str) -> FacilitatorPool:
        """The caller's row in the ritual's pool, made on first use."""
        assert ritual.id is not None
        query = select(FacilitatorPool).where(
            FacilitatorPool.ritual_id == ritual.id, FacilitatorPool.user_id == user
        )
        if (found := (await session.exec(query)).first()) is not None:
            return found
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        await session.exec(
            dialect.insert(FacilitatorPool)  # type: ignore[attr-defined]
            .values(ritual_id=ritual.id, user_id=user, joined_at=self._now())
            .values(volunteered=False, opted_out=False, wants_co_facilitator=False)
            .on_conflict_do_nothing(index_elements=["ritual_id", "user_id"])
        )
        return (await session.exec(query)).one()

    @staticmethod
    async def _require_member(session: AsyncSession, community: Community, who: UserRef) -> None:
        member = (
            await session.exec(
                select(Member).where(
                    Member.community_id == community.id,
                    Member.user_id == who.id,
                    col(Member.active),
                )
            )
        ).first()
        if member is None:
            raise UserError("target_not_member", who=who.label, community=community.name)

    @staticmethod
    async def _view(
        session: AsyncSession,
        ritual: Ritual,
        rows: Sequence[Occurrence],
        *,
        count: int = SHOWN,
        change: str | None = None,
        occurrence: Occurrence | None = None,
        notify: str | None = None,
        person: str | None = None,
    ) -> RotationView:
        return RotationView(
            ritual=ritual,
            meetings=list(rows[:count]),
            names=await names_in(session, ritual.community_id),
            change=change,
            occurrence=occurrence,
            notify=notify,
            person=person,
        )

    def _record(
        self,
        session: AsyncSession,
        community: Community,
        user: str,
        action: str,
        ritual: Ritual,
        row: Occurrence | None = None,
        **detail: str,
    ) -> None:
        if row is not None:
            detail["starts_at"] = row.starts_at.isoformat()
        record(session, community, user, action, self._now(), ritual=ritual.number, **detail)
