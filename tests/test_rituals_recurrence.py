"""Expanding schedules across DST and month ends; changes to one meeting or to a series."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import UserError
from rituals.recurrence import (
    Occurrence,
    between,
    edit_from,
    fold_pause,
    iter_occurrences,
    last_before,
    move,
    next_occurrence,
    occurrence_on,
    pause,
    resume,
    skip,
    upcoming,
)
from rituals.schedule import Frequency, Rule, Schedule, parse_schedule
from rituals.walltime import exists, to_instant

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def parse(text: str, now: datetime, zone: str = "Europe/Berlin") -> Schedule:
    return parse_schedule(text, default_zone=zone, now=now)


def starts(occurrences: list[Occurrence]) -> list[datetime]:
    return [o.start for o in occurrences]


def walls(occurrences: list[Occurrence]) -> list[str]:
    return [f"{o.local:%Y-%m-%d %H:%M%z}" for o in occurrences]


def test_first_tuesday_stays_at_15_berlin_across_the_march_change() -> None:
    now = utc(2025, 1, 10)
    schedule = parse("every month on first tue at 15:00 Europe/Berlin", now)
    six = upcoming(schedule, now=now, count=6)
    assert walls(six) == [
        "2025-02-04 15:00+0100",
        "2025-03-04 15:00+0100",
        "2025-04-01 15:00+0200",
        "2025-05-06 15:00+0200",
        "2025-06-03 15:00+0200",
        "2025-07-01 15:00+0200",
    ]
    assert starts(six) == [
        utc(2025, 2, 4, 14),
        utc(2025, 3, 4, 14),
        utc(2025, 4, 1, 13),
        utc(2025, 5, 6, 13),
        utc(2025, 6, 3, 13),
        utc(2025, 7, 1, 13),
    ]
    assert all(o.start.tzinfo is UTC and o.local.tzinfo == BERLIN for o in six)


def test_berlin_and_new_york_drift_apart_in_the_weeks_their_changes_differ() -> None:
    now = utc(2025, 2, 28)
    berlin = parse("every week on mon at 15:00", now)
    new_york = parse("every week on mon at 09:00 America/New_York", now)
    window = (utc(2025, 3, 1), utc(2025, 4, 8))
    hours_apart = [
        (ny.start - b.start) / timedelta(hours=1)
        for b, ny in zip(between(berlin, *window), between(new_york, *window), strict=True)
    ]
    # 3 March: both standard time; 10-24 March: New York already on summer time;
    # 31 March on: both on summer time.
    assert hours_apart == [0, -1, -1, -1, 0, 0]
    assert {f"{o.local:%H:%M}" for o in between(new_york, *window)} == {"09:00"}
    autumn = (utc(2025, 10, 20), utc(2025, 11, 11))
    autumn_apart = [
        (ny.start - b.start) / timedelta(hours=1)
        for b, ny in zip(between(berlin, *autumn), between(new_york, *autumn), strict=True)
    ]
    # 27 October: Berlin back on winter time, New York only from 2 November.
    assert autumn_apart == [0, -1, 0, 0]


def test_a_time_in_the_spring_gap_moves_on_by_the_gap() -> None:
    now = utc(2025, 3, 28)
    daily = parse("every day at 02:30", now)
    days = upcoming(daily, now=now, count=3)
    assert walls(days) == [
        "2025-03-28 02:30+0100",
        "2025-03-29 02:30+0100",
        "2025-03-30 03:30+0200",
    ]
    assert days[2].start == utc(2025, 3, 30, 1, 30)
    assert days[2].recurrence_id == datetime(2025, 3, 30, 2, 30)
    # dateutil itself hands back the wall time that does not exist (dateutil issue 1425).
    assert datetime(2025, 3, 30, 2, 30) in list(daily.rule.wall_times(daily.start)[:3])  # type: ignore[union-attr]
    assert not exists(datetime(2025, 3, 30, 2, 30), BERLIN)


def test_an_ambiguous_time_in_the_autumn_overlap_is_the_first() -> None:
    now = utc(2025, 10, 25)
    daily = parse("every day at 02:30", now)
    overlap = upcoming(daily, now=now, count=2)[1]
    assert overlap.start == utc(2025, 10, 26, 0, 30)
    assert f"{overlap.local:%H:%M%z}" == "02:30+0200"


def test_lord_howe_changes_by_half_an_hour() -> None:
    spring = parse("every day at 02:15 Australia/Lord_Howe", utc(2025, 10, 3))
    days = upcoming(spring, now=utc(2025, 10, 3), count=3)
    assert walls(days) == [
        "2025-10-04 02:15+1030",
        "2025-10-05 02:45+1100",
        "2025-10-06 02:15+1100",
    ]
    autumn = parse("every day at 01:45 Australia/Lord_Howe", utc(2025, 4, 4))
    days = upcoming(autumn, now=utc(2025, 4, 4), count=3)
    assert walls(days) == [
        "2025-04-05 01:45+1100",
        "2025-04-06 01:45+1100",
        "2025-04-07 01:45+1030",
    ]


def test_the_31st_is_skipped_in_shorter_months() -> None:
    now = utc(2025, 1, 31, 5)
    monthly = parse("every month at 10:00 UTC", now)
    assert monthly.rrule == "FREQ=MONTHLY;BYMONTHDAY=31"
    assert [o.day for o in upcoming(monthly, now=now, count=4)] == [
        date(2025, 1, 31),
        date(2025, 3, 31),
        date(2025, 5, 31),
        date(2025, 7, 31),
    ]


def test_the_29th_of_february_only_in_leap_years() -> None:
    schedule = Schedule(
        start=datetime(2027, 1, 29, 9, 0),
        zone="UTC",
        rule=Rule(freq=Frequency.MONTHLY, interval=1, monthday=29),
    )
    februaries = [
        o.day for o in between(schedule, utc(2027, 1, 1), utc(2029, 1, 1)) if o.day.month == 2
    ]
    assert februaries == [date(2028, 2, 29)]


def test_last_friday() -> None:
    now = utc(2025, 1, 1)
    schedule = parse("every month on last fri at 17:00", now)
    assert [o.day.isoformat() for o in upcoming(schedule, now=now, count=4)] == [
        "2025-01-31",
        "2025-02-28",
        "2025-03-28",
        "2025-04-25",
    ]


def test_a_one_off_has_one_occurrence() -> None:
    now = utc(2025, 1, 1)
    schedule = parse("on 2025-06-12 at 17:00 America/New_York", now)
    assert starts(upcoming(schedule, now=now, count=5)) == [utc(2025, 6, 12, 21)]
    assert next_occurrence(schedule, now=utc(2025, 6, 13)) is None


def test_windows_are_half_open() -> None:
    now = utc(2025, 1, 1)
    daily = parse("every day at 10:00 UTC", now)
    assert starts(between(daily, utc(2025, 1, 2, 10), utc(2025, 1, 4, 10))) == [
        utc(2025, 1, 2, 10),
        utc(2025, 1, 3, 10),
    ]
    with pytest.raises(ValueError):
        next(iter_occurrences(daily, since=datetime(2025, 1, 1)))


# Changes to one meeting or to the series.

NOW = utc(2025, 1, 10)


@pytest.fixture
def monthly() -> Schedule:
    return parse("every month on first tue at 15:00", NOW)


def test_skip_one_meeting(monthly: Schedule) -> None:
    march = occurrence_on(monthly, date(2025, 3, 4))
    skipped = skip(monthly, march, now=NOW)
    assert skipped.exdate == "20250304T150000"
    assert [o.day.isoformat() for o in upcoming(skipped, now=NOW, count=3)] == [
        "2025-02-04",
        "2025-04-01",
        "2025-05-06",
    ]


def test_move_one_meeting_and_move_it_again(monthly: Schedule) -> None:
    march = occurrence_on(monthly, date(2025, 3, 4))
    moved = move(monthly, march, to=datetime(2025, 3, 5, 16, 0), now=NOW)
    assert (moved.exdate, moved.rdate) == ("20250304T150000", "20250305T160000")
    three = upcoming(moved, now=NOW, count=3)
    assert walls(three) == [
        "2025-02-04 15:00+0100",
        "2025-03-05 16:00+0100",
        "2025-04-01 15:00+0200",
    ]
    assert three[1].moved
    again = move(moved, three[1], to=datetime(2025, 3, 6, 16, 0), now=NOW)
    assert (again.exdate, again.rdate) == ("20250304T150000", "20250306T160000")
    back = move(again, occurrence_on(again, date(2025, 3, 6)), to=datetime(2025, 3, 4, 15), now=NOW)
    assert (back.exdate, back.rdate) == ("", "")
    assert back == monthly


def test_skip_a_moved_meeting_drops_its_rdate(monthly: Schedule) -> None:
    moved = move(
        monthly, occurrence_on(monthly, date(2025, 3, 4)), to=datetime(2025, 3, 5, 16), now=NOW
    )
    skipped = skip(moved, occurrence_on(moved, date(2025, 3, 5)), now=NOW)
    assert (skipped.exdate, skipped.rdate) == ("20250304T150000", "")
    assert date(2025, 3, 5) not in [o.day for o in upcoming(skipped, now=NOW, count=3)]


def test_move_a_one_off_changes_its_start() -> None:
    one_off = parse("on 2025-06-12 at 17:00", NOW)
    moved = move(
        one_off, upcoming(one_off, now=NOW, count=1)[0], to=datetime(2025, 6, 13, 9), now=NOW
    )
    assert moved.start == datetime(2025, 6, 13, 9) and moved.rdates == () and moved.exdates == ()


def test_a_move_into_the_past_or_onto_another_meeting_is_refused(monthly: Schedule) -> None:
    march = occurrence_on(monthly, date(2025, 3, 4))
    with pytest.raises(UserError) as caught:
        move(monthly, march, to=datetime(2025, 1, 9, 15), now=NOW)
    assert (caught.value.kind, caught.value.data) == (
        "move_in_past",
        {"when": "2025-01-09 15:00", "zone": "Europe/Berlin"},
    )
    with pytest.raises(UserError) as caught:
        move(monthly, march, to=datetime(2025, 4, 1, 15), now=NOW)
    assert (caught.value.kind, caught.value.data) == (
        "move_clash",
        {"when": "2025-04-01 15:00", "zone": "Europe/Berlin"},
    )


def test_a_past_meeting_cannot_be_skipped_or_moved(monthly: Schedule) -> None:
    february = occurrence_on(monthly, date(2025, 2, 4))
    later = utc(2025, 2, 5)
    with pytest.raises(UserError) as caught:
        skip(monthly, february, now=later)
    assert (caught.value.kind, caught.value.data) == ("occurrence_past", {"date": "2025-02-04"})
    with pytest.raises(UserError):
        move(monthly, february, to=datetime(2025, 2, 20, 15), now=later)


def test_a_meeting_from_elsewhere_is_a_programming_error(monthly: Schedule) -> None:
    other = parse("every day at 09:00", NOW)
    with pytest.raises(ValueError):
        skip(monthly, upcoming(other, now=NOW, count=1)[0], now=NOW)


def test_no_meeting_on_a_day_names_the_next_ones(monthly: Schedule) -> None:
    with pytest.raises(UserError) as caught:
        occurrence_on(monthly, date(2025, 3, 5))
    assert (caught.value.kind, caught.value.data) == (
        "occurrence_missing",
        {"date": "2025-03-05", "nearby": ["2025-04-01", "2025-05-06", "2025-06-03"]},
    )


def test_edit_from_the_next_meeting_on(monthly: Schedule) -> None:
    skipped = skip(monthly, occurrence_on(monthly, date(2025, 5, 6)), now=NOW)
    now = utc(2025, 3, 10)
    edit = edit_from(skipped, parse("every 2 weeks on thu at 16:00", now), now=now)
    assert edit.ended is not None
    assert edit.ended.rrule == "FREQ=MONTHLY;BYDAY=1TU;UNTIL=20250304T140000Z"
    assert edit.ended.exdates == ()
    assert edit.ended.describe() == (
        "every month on the first Tuesday at 15:00 Europe/Berlin, until 2025-03-04"
    )
    assert [o.day.isoformat() for o in between(edit.ended, NOW, utc(2026, 1, 1))] == [
        "2025-02-04",
        "2025-03-04",
    ]
    assert [o.day.isoformat() for o in upcoming(edit.current, now=now, count=3)] == [
        "2025-03-13",
        "2025-03-27",
        "2025-04-10",
    ]


def test_edit_before_the_first_meeting_replaces_the_series(monthly: Schedule) -> None:
    edit = edit_from(monthly, parse("every week on wed at 10:00", NOW), now=NOW)
    assert edit.ended is None
    assert edit.current.rrule == "FREQ=WEEKLY;BYDAY=WE"


def test_edit_keeps_a_moved_meeting_that_already_happened(monthly: Schedule) -> None:
    moved = move(
        monthly, occurrence_on(monthly, date(2025, 2, 4)), to=datetime(2025, 1, 20, 9), now=NOW
    )
    now = utc(2025, 1, 25)
    ended = edit_from(moved, parse("every week on wed at 10:00", now), now=now).ended
    assert ended is not None
    assert [o.day.isoformat() for o in between(ended, NOW, utc(2026, 1, 1))] == ["2025-01-20"]


def test_pause_until_a_date_and_resume(monthly: Schedule) -> None:
    paused = pause(monthly, now=NOW, until=date(2025, 4, 1))
    assert [o.day.isoformat() for o in upcoming(paused, now=NOW, count=2)] == [
        "2025-04-01",
        "2025-05-06",
    ]
    resumed = resume(paused, now=utc(2025, 2, 10))
    assert [o.day.isoformat() for o in upcoming(resumed, now=NOW, count=3)] == [
        "2025-03-04",
        "2025-04-01",
        "2025-05-06",
    ]
    # Resuming does not bring back the meeting held back while paused.
    assert [o.day for o in between(resumed, NOW, utc(2025, 3, 1))] == []


def test_pause_until_resumed(monthly: Schedule) -> None:
    paused = pause(monthly, now=NOW)
    assert upcoming(paused, now=NOW, count=3) == []
    later = pause(paused, now=utc(2025, 2, 1), until=date(2025, 6, 1))
    assert later.pause is not None and later.pause.start == NOW
    assert [o.day.isoformat() for o in upcoming(later, now=NOW, count=1)] == ["2025-06-03"]
    with pytest.raises(UserError) as caught:
        resume(resume(paused, now=utc(2025, 3, 1)), now=utc(2025, 3, 2))
    assert (caught.value.kind, caught.value.data) == ("not_paused", {})


def test_pause_until_today_or_earlier_is_refused(monthly: Schedule) -> None:
    with pytest.raises(UserError) as caught:
        pause(monthly, now=NOW, until=date(2025, 1, 10))
    assert (caught.value.kind, caught.value.data) == ("pause_until_past", {"until": "2025-01-10"})


def test_last_before(monthly: Schedule) -> None:
    assert last_before(monthly, now=NOW) is None
    found = last_before(monthly, now=utc(2030, 1, 1))
    assert found is not None and found.day == date(2029, 12, 4)


def test_fold_pause_writes_the_same_meetings_in_rfc_terms(monthly: Schedule) -> None:
    moved = move(
        monthly, occurrence_on(monthly, date(2025, 3, 4)), to=datetime(2025, 3, 5, 16), now=NOW
    )
    window = (NOW, utc(2026, 1, 1))
    for paused in (
        pause(moved, now=NOW, until=date(2025, 5, 1)),
        pause(moved, now=utc(2025, 3, 1)),
        resume(pause(moved, now=NOW), now=utc(2025, 4, 15)),
    ):
        folded = fold_pause(paused)
        assert folded.pause is None
        assert between(folded, *window) == between(paused, *window)


# Properties over many schedules.

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    freq = draw(st.sampled_from(list(Frequency)))
    weekdays: tuple[int, ...] = ()
    ordinal = monthday = None
    if freq is Frequency.WEEKLY or (freq is Frequency.DAILY and draw(st.booleans())):
        weekdays = tuple(draw(st.lists(st.integers(0, 6), min_size=1, max_size=3)))
    if freq is Frequency.MONTHLY:
        if draw(st.booleans()):
            weekdays = (draw(st.integers(0, 6)),)
            ordinal = draw(st.sampled_from([1, 2, 3, 4, -1]))
        else:
            monthday = draw(st.integers(1, 31))
    rule = Rule(
        freq=freq,
        interval=draw(st.integers(1, 4)),
        weekdays=weekdays,
        ordinal=ordinal,
        monthday=monthday,
    )
    start = draw(st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 1, 1)))
    start = start.replace(second=0, microsecond=0)
    # Keep DTSTART in step with the rule, as parse_schedule does.
    start = next(iter(rule.wall_times(start)))
    return Schedule(start=start, zone=draw(st.sampled_from(ZONES)), rule=rule)


def reference(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    """Expansion the slow, obvious way: every wall time from DTSTART on."""
    assert schedule.rule is not None
    found = []
    for wall in schedule.rule.wall_times(schedule.start):
        instant = to_instant(wall, schedule.tz)
        if instant >= end + timedelta(days=2):
            break
        if start <= instant < end:
            found.append(instant)
    return sorted(set(found))


@settings(max_examples=150, deadline=None)
@given(schedules(), st.integers(0, 3000), st.integers(1, 120))
def test_starting_near_the_window_finds_what_expanding_from_dtstart_finds(
    schedule: Schedule, offset_days: int, length_days: int
) -> None:
    start = to_instant(schedule.start, schedule.tz) + timedelta(days=offset_days, hours=5)
    end = start + timedelta(days=length_days)
    assert starts(between(schedule, start, end)) == reference(schedule, start, end)


@settings(max_examples=150, deadline=None)
@given(schedules(), st.integers(0, 3000))
def test_every_meeting_is_at_the_wall_time_asked_unless_it_fell_in_a_gap(
    schedule: Schedule, offset_days: int
) -> None:
    since = to_instant(schedule.start, schedule.tz) + timedelta(days=offset_days)
    asked = schedule.start.time()
    found = upcoming(schedule, now=since, count=30)
    assert len(found) == 30
    for occurrence in found:
        wall = occurrence.recurrence_id
        assert wall.time() == asked
        local = occurrence.local.replace(tzinfo=None)
        if exists(wall, schedule.tz):
            assert local == wall
            readings = {wall.replace(tzinfo=schedule.tz, fold=f).astimezone(UTC) for f in (0, 1)}
            assert occurrence.start == min(readings)  # the first of two, if ambiguous
        else:
            before = wall.replace(tzinfo=schedule.tz, fold=0).utcoffset()
            after = occurrence.local.utcoffset()
            assert before is not None and after is not None and after > before
            assert local == wall + (after - before)
        assert occurrence.start == occurrence.local.astimezone(UTC)
    assert starts(found) == sorted(set(starts(found)))


def test_next_meetings_for_thousands_of_rituals_are_quick() -> None:
    now = utc(2035, 6, 1)
    rituals = [
        parse(text, utc(2015, 1, 1) + timedelta(days=i))
        for i in range(400)
        for text in (
            "every day at 09:00",
            "every 2 weeks on mon,thu at 10:00 America/New_York",
            "every month on last fri at 17:00",
            "every 3 months at 08:00 Australia/Lord_Howe",
            "every week on wed at 12:00 Asia/Kolkata",
        )
    ]
    began = clock.perf_counter()
    for schedule in rituals:
        assert len(upcoming(schedule, now=now, count=5)) == 5
    assert clock.perf_counter() - began < 4.0  # ~0.3 s here; expanding from DTSTART ~30 s
