"""Fair facilitator rotation: who runs each of the next meetings of a ritual.

Whoever facilitated least recently goes first, then whoever did it fewest times, then whoever
joined first. Only members who volunteered at least once (or are core team) are picked, and
anyone away or skipping a meeting is passed over for it without losing their place.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.errors import UserError
from rituals.absence import AwayPeriod, is_away


@dataclass(frozen=True, kw_only=True)
class PoolMember:
    """A member who opted in to facilitating, with their record so far."""

    member_id: str
    join_order: int
    times_facilitated: int = 0
    last_facilitated: date | None = None
    volunteered: bool = False
    core_team: bool = False
    opted_out: bool = False
    away: tuple[AwayPeriod, ...] = ()

    @property
    def pickable(self) -> bool:
        """Whether rotation may choose them: not opted out, and not a newcomer who never
        volunteered."""
        return not self.opted_out and (self.volunteered or self.core_team)


@dataclass(frozen=True, kw_only=True)
class Slot:
    """One meeting's facilitator: None is an open slot; `assigned` marks an explicit choice."""

    day: date
    facilitator: str | None
    assigned: bool = False


def plan_rotation(
    pool: Sequence[PoolMember],
    days: Sequence[date],
    *,
    assignments: Mapping[date, str] | None = None,
    skips: Collection[tuple[date, str]] = (),
) -> list[Slot]:
    """The facilitator for each meeting on `days` (ascending local dates of the next N).

    `assignments` name someone explicitly for a day (a volunteer, one half of a swap); they are
    not also picked for an earlier meeting in the plan. `skips` are (day, member) pairs: that
    member sits that meeting out and keeps their priority for the next."""
    assignments = assignments or {}
    skipped = set(skips)
    record = {m.member_id: (m.last_facilitated or date.min, m.times_facilitated) for m in pool}
    slots = []
    for index, day in enumerate(days):
        if day in assignments:
            chosen: str | None = assignments[day]
            assigned = True
        else:
            booked = {assignments[later] for later in days[index + 1 :] if later in assignments}
            candidates = [
                member
                for member in pool
                if member.pickable
                and member.member_id not in booked
                and (day, member.member_id) not in skipped
                and not is_away(member.away, day)
            ]
            best = min(
                candidates,
                key=lambda m: (*record[m.member_id], m.join_order, m.member_id),
                default=None,
            )
            chosen = None if best is None else best.member_id
            assigned = False
        if chosen in record:
            record[chosen] = (day, record[chosen][1] + 1)
        slots.append(Slot(day=day, facilitator=chosen, assigned=assigned))
    return slots


def swap(plan: Sequence[Slot], first: date, second: date) -> dict[date, str]:
    """The explicit assignments that exchange the facilitators of two planned meetings.

    Store them with the other assignments; an open slot just lets the other person move."""
    slots = {slot.day: slot for slot in plan}
    for day in (first, second):
        if day not in slots:
            raise UserError("slot_missing", date=day.isoformat())
    exchanged = {}
    if (moving := slots[second].facilitator) is not None:
        exchanged[first] = moving
    if (moving := slots[first].facilitator) is not None:
        exchanged[second] = moving
    return exchanged
