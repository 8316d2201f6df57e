"""A community's rituals by number, and their coming meetings as rows.

Commands that show or change meetings materialise the rows they need here first (from now
to a little past the furthest meeting asked about), so facilitators, attendance and calendar
links have a row to hang on and meetings the schedule dropped are marked removed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import UserError
from bot.services.occurrences import SCHEDULED, ensure_occurrences
from rituals.recurrence import upcoming
from rituals.schedule import Schedule
from rituals.walltime import to_wall
from storage.models import Occurrence, Ritual

# How far ahead meetings are materialised at least whenever a ritual is shown or changed.
HORIZON = timedelta(days=62)
ACTIVE = "active"
CANCELLED = "cancelled"


async def find_ritual(
    session: AsyncSession, community_id: int, number: int, *, lock: bool = False
) -> Ritual:
    """The community's ritual `#number`; refuses with the numbers there are. `lock` holds
    the row until the transaction ends (PostgreSQL), so changes to one ritual queue up."""
    query = select(Ritual).where(Ritual.community_id == community_id, Ritual.number == number)
    found = (await session.exec(query.with_for_update() if lock else query)).first()
    if found is None:
        numbers = await session.exec(
            select(Ritual.number)
            .where(Ritual.community_id == community_id, Ritual.status == ACTIVE)
            .order_by(col(Ritual.number))
        )
        raise UserError("ritual_not_found", number=number, numbers=[f"#{n}" for n in numbers])
    return found


async def live_rituals(session: AsyncSession, community_id: int) -> list[Ritual]:
    """The community's rituals that are not cancelled, by number."""
    query = (
        select(Ritual)
        .where(Ritual.community_id == community_id, Ritual.status == ACTIVE)
        .order_by(col(Ritual.number))
    )
    return list((await session.exec(query)).all())


def schedule_of(ritual: Ritual) -> Schedule:
    return Schedule.from_json(ritual.schedule)


def local_day(ritual: Ritual, instant: datetime) -> date:
    """The date in the ritual's zone at `instant` (how meetings, skips and absences are dated)."""
    return to_wall(instant, schedule_of(ritual).tz).date()


async def materialise(
    session: AsyncSession,
    ritual: Ritual,
    *,
    now: datetime,
    count: int = 0,
    until: datetime | None = None,
) -> list[Occurrence]:
    """The ritual's scheduled meetings from `now` on, as rows: at least the next `count`,
    every one up to `until` and within `HORIZON`, and every one already materialised further
    ahead (so a change marks those removed too). Oldest first."""
    end = max(now + HORIZON, until + timedelta(seconds=1) if until else now)
    if count and ritual.status == ACTIVE:
        wanted = upcoming(schedule_of(ritual), now=now, count=count)
        if wanted:
            end = max(end, wanted[-1].start + timedelta(seconds=1))
    furthest = (
        await session.exec(
            select(func.max(Occurrence.starts_at)).where(
                Occurrence.ritual_id == ritual.id, col(Occurrence.status) == SCHEDULED
            )
        )
    ).first()
    if furthest is not None and furthest >= end:
        end = furthest + timedelta(seconds=1)
    return await ensure_occurrences(session, ritual, start=now, end=end)
