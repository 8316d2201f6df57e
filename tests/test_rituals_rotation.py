"""Facilitator rotation: order, newcomers, away periods, skips, assignments, and a year of it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from itertools import pairwise

import pytest

from bot.errors import UserError
from rituals.absence import AwayPeriod
from rituals.rotation import PoolMember, Slot, plan_rotation, swap

MONDAYS = [date(2025, 3, 3) + timedelta(weeks=i) for i in range(8)]


def member(name: str, join_order: int, **record: object) -> PoolMember:
    record.setdefault("volunteered", True)
    return PoolMember(member_id=name, join_order=join_order, **record)  # type: ignore[arg-type]


def names(slots: list[Slot]) -> list[str | None]:
    return [slot.facilitator for slot in slots]


def test_least_recent_then_fewest_times_then_join_order() -> None:
    pool = [
        member("ana", 1, times_facilitated=3, last_facilitated=date(2025, 1, 6)),
        member("ben", 2, times_facilitated=1, last_facilitated=date(2025, 1, 6)),
        member("cai", 3, times_facilitated=2, last_facilitated=date(2024, 12, 2)),
        member("dee", 4),
        member("eli", 5, volunteered=False, core_team=True),
        member("fay", 6, volunteered=False),
    ]
    slots = plan_rotation(pool, MONDAYS[:6])
    assert names(slots) == ["dee", "eli", "cai", "ben", "ana", "dee"]
    assert not any(slot.assigned for slot in slots)


def test_a_newcomer_waits_until_they_volunteer() -> None:
    newcomers = [member("gil", 1, volunteered=False), member("hal", 2, volunteered=False)]
    assert names(plan_rotation(newcomers, MONDAYS[:2])) == [None, None]
    newcomers[1] = replace(newcomers[1], volunteered=True)
    assert names(plan_rotation(newcomers, MONDAYS[:2])) == ["hal", "hal"]


def test_opted_out_members_are_never_picked() -> None:
    pool = [member("ana", 1, opted_out=True, core_team=True), member("ben", 2)]
    assert names(plan_rotation(pool, MONDAYS[:3])) == ["ben", "ben", "ben"]


def test_someone_away_is_passed_over_and_keeps_their_place() -> None:
    away = (AwayPeriod(first=MONDAYS[0], last=MONDAYS[1]),)
    pool = [member("ana", 1, away=away), member("ben", 2), member("cai", 3)]
    assert names(plan_rotation(pool, MONDAYS[:5])) == ["ben", "cai", "ana", "ben", "cai"]


def test_a_skip_hands_the_meeting_on_and_the_skipper_goes_next() -> None:
    pool = [member("ana", 1), member("ben", 2), member("cai", 3)]
    slots = plan_rotation(pool, MONDAYS[:4], skips=[(MONDAYS[0], "ana")])
    assert names(slots) == ["ben", "ana", "cai", "ben"]


def test_explicit_assignments_and_the_booked_are_not_picked_earlier() -> None:
    pool = [member("ana", 1), member("ben", 2), member("cai", 3)]
    slots = plan_rotation(pool, MONDAYS[:4], assignments={MONDAYS[2]: "ana", MONDAYS[3]: "guest"})
    assert names(slots) == ["ben", "cai", "ana", "guest"]
    assert [slot.assigned for slot in slots] == [False, False, True, True]


def test_no_one_available_leaves_the_slot_open() -> None:
    away = (AwayPeriod(first=MONDAYS[0], last=MONDAYS[0]),)
    assert names(plan_rotation([member("ana", 1, away=away)], MONDAYS[:2])) == [None, "ana"]
    assert plan_rotation([], MONDAYS[:1]) == [Slot(day=MONDAYS[0], facilitator=None)]


def test_swap_makes_the_assignments_that_exchange_two_meetings() -> None:
    pool = [member("ana", 1), member("ben", 2), member("cai", 3)]
    plan = plan_rotation(pool, MONDAYS[:3])
    assert names(plan) == ["ana", "ben", "cai"]
    exchanged = swap(plan, MONDAYS[0], MONDAYS[2])
    assert exchanged == {MONDAYS[0]: "cai", MONDAYS[2]: "ana"}
    assert names(plan_rotation(pool, MONDAYS[:3], assignments=exchanged)) == ["cai", "ben", "ana"]
    open_slot = [Slot(day=MONDAYS[0], facilitator=None), plan[1]]
    assert swap(open_slot, MONDAYS[0], MONDAYS[1]) == {MONDAYS[0]: "ben"}
    with pytest.raises(UserError) as caught:
        swap(plan, MONDAYS[0], MONDAYS[5])
    assert (caught.value.kind, caught.value.data) == ("slot_missing", {"date": "2025-04-07"})


def test_a_simulated_year_of_weekly_meetings_is_fair() -> None:
    weeks = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(52)]
    pool = {
        "m1": member("m1", 1, volunteered=False, core_team=True),
        "m2": member("m2", 2, volunteered=False, core_team=True),
        "m3": member("m3", 3),
        "m4": member("m4", 4, away=(AwayPeriod(first=weeks[15], last=weeks[18]),)),
        "m5": member("m5", 5),
        "m6": member("m6", 6),
        "n1": member("n1", 7, volunteered=False),
        "n2": member("n2", 8, volunteered=False),
    }
    skips = {(weeks[34], "m5")}  # week 34 is m5's turn
    ran: dict[str, list[int]] = {name: [] for name in [*pool, "m7"]}
    for week, day in enumerate(weeks):
        if week == 5:
            pool["n1"] = replace(pool["n1"], volunteered=True)
        if week == 10:
            pool["m7"] = member("m7", 9)
        if week == 20:
            del pool["m3"]
        if week == 40:
            pool["m6"] = replace(pool["m6"], opted_out=True)
        plan = plan_rotation(list(pool.values()), weeks[week : week + 4], skips=skips)
        chosen = plan[0].facilitator
        assert chosen is not None
        person = pool[chosen]
        assert person.pickable and not any(p.covers(day) for p in person.away)
        assert (day, chosen) not in skips
        ran[chosen].append(week)
        pool[chosen] = replace(
            person, times_facilitated=person.times_facilitated + 1, last_facilitated=day
        )
    assert ran["n2"] == [] and all(w >= 5 for w in ran["n1"]) and all(w >= 10 for w in ran["m7"])
    assert all(w < 20 for w in ran["m3"]) and all(w < 40 for w in ran["m6"])
    assert not set(ran["m4"]) & set(range(15, 19))
    assert 19 in ran["m4"]  # back from being away, first in line
    assert 34 not in ran["m5"] and 35 in ran["m5"]  # skipped their turn, kept their place
    # Everyone who could facilitate all year did so within one turn of each other.
    counts = [len(ran[name]) for name in ("m1", "m2", "m4", "m5")]
    assert max(counts) - min(counts) <= 1
    # Nobody waited much longer than one round of the pool between turns.
    for name, turns in ran.items():
        gaps = [later - earlier for earlier, later in pairwise(turns)]
        assert all(gap <= 9 for gap in gaps), (name, turns)
