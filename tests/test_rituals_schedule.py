"""The schedule grammar, its RFC 5545 value, durations and reminder offsets."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UserError
from rituals.schedule import (
    ORDINALS,
    WEEKDAY_NAMES,
    Frequency,
    Pause,
    Rule,
    Schedule,
    format_duration,
    parse_date,
    parse_duration,
    parse_reminders,
    parse_schedule,
    parse_time,
    resolve_zone,
)

# A Friday, 10:00 in Berlin.
NOW = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


def parse(text: str, *, now: datetime = NOW, zone: str = "Europe/Berlin") -> Schedule:
    return parse_schedule(text, default_zone=zone, now=now)


def refusal(call, *args, **kwargs) -> UserError:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError) as caught:
        call(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("text", "rrule", "start"),
    [
        ("every day at 08:00", "FREQ=DAILY", datetime(2025, 1, 11, 8, 0)),
        ("every day at 11:00", "FREQ=DAILY", datetime(2025, 1, 10, 11, 0)),
        ("every 2 days at 8:05", "FREQ=DAILY;INTERVAL=2", datetime(2025, 1, 11, 8, 5)),
        ("every day on sat,sun at 10:00", "FREQ=DAILY;BYDAY=SA,SU", datetime(2025, 1, 11, 10)),
        ("every week at 09:30", "FREQ=WEEKLY;BYDAY=FR", datetime(2025, 1, 17, 9, 30)),
        ("every weeks at 12:00", "FREQ=WEEKLY;BYDAY=FR", datetime(2025, 1, 10, 12, 0)),
        ("every week on tue at 15:00", "FREQ=WEEKLY;BYDAY=TU", datetime(2025, 1, 14, 15)),
        (
            "every 2 weeks on mon,thu at 09:30",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
            datetime(2025, 1, 13, 9, 30),
        ),
        (
            "every week on Monday, Wednesday and friday at 17:00",
            "FREQ=WEEKLY;BYDAY=MO,WE,FR",
            datetime(2025, 1, 10, 17, 0),
        ),
        ("every month at 10:00", "FREQ=MONTHLY;BYMONTHDAY=10", datetime(2025, 1, 10, 10)),
        ("every month at 09:00", "FREQ=MONTHLY;BYMONTHDAY=10", datetime(2025, 2, 10, 9)),
        ("every month on first tue at 15:00", "FREQ=MONTHLY;BYDAY=1TU", datetime(2025, 2, 4, 15)),
        (
            "every month on the second wednesday at 15:00",
            "FREQ=MONTHLY;BYDAY=2WE",
            datetime(2025, 2, 12, 15),
        ),
        ("every month on third thu at 15:00", "FREQ=MONTHLY;BYDAY=3TH", datetime(2025, 1, 16, 15)),
        ("every month on fourth sat at 15:00", "FREQ=MONTHLY;BYDAY=4SA", datetime(2025, 1, 25, 15)),
        (
            "every 3 months on last fri at 17:00",
            "FREQ=MONTHLY;INTERVAL=3;BYDAY=-1FR",
            datetime(2025, 1, 31, 17),
        ),
        ("EVERY  Month ON First TUE at 15:00", "FREQ=MONTHLY;BYDAY=1TU", datetime(2025, 2, 4, 15)),
        (
            "every week on tuesdays, Thurs and weds at 12:00",
            "FREQ=WEEKLY;BYDAY=TU,WE,TH",
            datetime(2025, 1, 14, 12, 0),
        ),
    ],
)
def test_recurring_phrases(text: str, rrule: str, start: datetime) -> None:
    schedule = parse(text)
    assert schedule.rrule == rrule
    assert schedule.start == start
    assert schedule.zone == "Europe/Berlin"


def test_a_zone_in_the_phrase_wins_over_the_default_and_any_case_is_fine() -> None:
    schedule = parse("every week on mon at 09:00 america/new_york", zone="UTC")
    assert schedule.zone == "America/New_York"
    assert schedule.dtstart == "20250113T090000"
    assert parse("every day at 09:00 UTC", zone="Asia/Tokyo").zone == "UTC"


def test_one_off() -> None:
    schedule = parse("on 2025-06-12 at 17:00 America/New_York")
    assert schedule.rule is None
    assert schedule.start == datetime(2025, 6, 12, 17, 0)
    assert schedule.zone == "America/New_York"
    assert schedule.describe() == "on Thursday 2025-06-12 at 17:00 America/New_York"
    assert schedule.shortest_gap() is None


def test_a_rule_with_an_interval_starts_at_the_soonest_matching_day() -> None:
    # Parsed on a Friday: the next Monday, then every other week from there.
    schedule = parse("every 2 weeks on mon at 10:00")
    assert schedule.start == datetime(2025, 1, 13, 10, 0)
    # Parsed after this month's first Tuesday: next month's, then every two months.
    later = parse("every 2 months on first tue at 15:00")
    assert later.start == datetime(2025, 2, 4, 15, 0)


def test_now_is_read_in_the_schedule_zone() -> None:
    # 23:30 UTC on Friday is already Saturday in Tokyo.
    late = datetime(2025, 1, 10, 23, 30, tzinfo=UTC)
    assert parse("every week at 10:00", now=late, zone="Asia/Tokyo").rule == Rule(
        freq=Frequency.WEEKLY, weekdays=(5,)
    )


def test_a_meeting_at_exactly_now_counts_as_the_first() -> None:
    assert parse("every day at 10:00").start == datetime(2025, 1, 10, 10, 0)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "every month on first tue at 15:00",
            "every month on the first Tuesday at 15:00 Europe/Berlin",
        ),
        ("every day at 08:00", "every day at 08:00 Europe/Berlin"),
        ("every 2 days at 08:00", "every 2 days at 08:00 Europe/Berlin"),
        (
            "every 2 weeks on mon,thu at 09:30 UTC",
            "every 2 weeks on Monday and Thursday at 09:30 UTC",
        ),
        (
            "every week on mon, wed, fri at 09:30",
            "every week on Monday, Wednesday and Friday at 09:30 Europe/Berlin",
        ),
        ("every month at 10:00", "every month on day 10 at 10:00 Europe/Berlin"),
        (
            "every 6 months on last fri at 17:00",
            "every 6 months on the last Friday at 17:00 Europe/Berlin",
        ),
    ],
)
def test_describe(text: str, words: str) -> None:
    assert parse(text).describe() == words


def test_describe_says_when_a_series_ended() -> None:
    schedule = parse("every week on tue at 15:00")
    assert schedule.rule is not None
    ended = Schedule(
        start=schedule.start,
        zone=schedule.zone,
        rule=Rule(
            freq=Frequency.WEEKLY,
            weekdays=(1,),
            until=datetime(2025, 3, 4, 14, 0, tzinfo=UTC),
        ),
    )
    assert ended.describe() == "every week on Tuesday at 15:00 Europe/Berlin, until 2025-03-04"
    assert ended.rrule == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20250304T140000Z"


def test_storage_round_trip_as_plain_strings() -> None:
    schedule = Schedule(
        start=datetime(2025, 2, 4, 15, 0),
        zone="Europe/Berlin",
        rule=Rule(
            freq=Frequency.MONTHLY,
            weekdays=(1,),
            ordinal=1,
            until=datetime(2026, 1, 1, tzinfo=UTC),
        ),
        exdates=(datetime(2025, 4, 1, 15, 0), datetime(2025, 3, 4, 15, 0)),
        rdates=(datetime(2025, 3, 5, 16, 0),),
        pause=Pause(start=datetime(2025, 5, 1, tzinfo=UTC), end=datetime(2025, 7, 1, tzinfo=UTC)),
    )
    stored = schedule.to_json()
    assert stored == {
        "dtstart": "20250204T150000",
        "tzid": "Europe/Berlin",
        "rrule": "FREQ=MONTHLY;BYDAY=1TU;UNTIL=20260101T000000Z",
        "exdate": "20250304T150000,20250401T150000",
        "rdate": "20250305T160000",
        "pause": {"start": "20250501T000000Z", "end": "20250701T000000Z"},
    }
    assert Schedule.from_json(stored) == schedule
    one_off = Schedule(start=datetime(2025, 6, 1, 9, 0), zone="UTC")
    assert one_off.to_json()["rrule"] is None
    assert Schedule.from_json(one_off.to_json()) == one_off


def test_a_schedule_refuses_values_it_cannot_mean() -> None:
    with pytest.raises(ValueError):
        Schedule(start=datetime(2025, 1, 1, tzinfo=UTC), zone="UTC")
    with pytest.raises(ValueError):
        Schedule(start=datetime(2025, 1, 1), zone="Mars/Olympus")
    with pytest.raises(ValueError):
        Rule(freq=Frequency.WEEKLY, weekdays=(1,), ordinal=1)
    with pytest.raises(ValueError):
        Rule(freq=Frequency.DAILY, interval=0)
    with pytest.raises(ValueError):
        Rule.from_rrule("FREQ=YEARLY;BYMONTH=3")


@st.composite
def phrases(draw: st.DrawFn) -> str:
    unit = draw(st.sampled_from(["day", "days", "week", "weeks", "month", "months"]))
    words = ["every"]
    if draw(st.booleans()):
        words.append(str(draw(st.integers(1, 12))))
    words.append(unit)
    days = [name.lower()[: draw(st.sampled_from([3, 9]))] for name in WEEKDAY_NAMES]
    if unit.startswith("month"):
        if draw(st.booleans()):
            words += ["on", draw(st.sampled_from(list(ORDINALS))), draw(st.sampled_from(days))]
    elif draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(days), min_size=1, max_size=4))
        words += ["on", ",".join(chosen)]
    words += ["at", f"{draw(st.integers(0, 23))}:{draw(st.integers(0, 59)):02d}"]
    if draw(st.booleans()):
        words.append(
            draw(st.sampled_from(["UTC", "America/New_York", "Australia/Lord_Howe", "asia/tokyo"]))
        )
    return " ".join(words)


@given(
    phrases(),
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
)
def test_every_phrase_round_trips_and_starts_in_the_future(text: str, now: datetime) -> None:
    schedule = parse(text, now=now)
    assert Schedule.from_json(schedule.to_json()) == schedule
    assert schedule.start.replace(tzinfo=schedule.tz, fold=0) >= now
    assert schedule.describe().startswith("every ")
    assert schedule.rule is not None
    assert Rule.from_rrule(schedule.rule.to_rrule()) == schedule.rule


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("60m", timedelta(minutes=60)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(minutes=90)),
        ("1h 30m", timedelta(minutes=90)),
        ("90", timedelta(minutes=90)),
        ("45min", timedelta(minutes=45)),
        ("24h", timedelta(hours=24)),
    ],
)
def test_durations(text: str, length: timedelta) -> None:
    assert parse_duration(text) == length


def test_reminders_longest_first_without_repeats() -> None:
    assert parse_reminders("remind=1d,1h") == (timedelta(days=1), timedelta(hours=1))
    assert parse_reminders("15m, 1m,1d2h, 15m") == (
        timedelta(days=1, hours=2),
        timedelta(minutes=15),
        timedelta(minutes=1),
    )
    weekly = parse("every week on tue at 15:00")
    assert parse_reminders("remind=7d", schedule=weekly) == (timedelta(days=7),)
    assert parse_reminders("remind=30d", schedule=parse("on 2025-06-01 at 10:00")) == (
        timedelta(days=30),
    )


def test_shortest_gap_follows_the_rule() -> None:
    assert parse("every 2 weeks on mon,thu at 09:30").shortest_gap() == timedelta(days=3)
    assert parse("every month on first tue at 15:00").shortest_gap() == timedelta(days=28)
    assert parse("every 3 days at 09:00").shortest_gap() == timedelta(days=3)


def test_format_duration() -> None:
    assert format_duration(timedelta(days=1, hours=2, minutes=5)) == "1d2h5m"
    assert format_duration(timedelta(hours=1)) == "1h"
    assert format_duration(timedelta(0)) == "0m"


def test_dates_and_times() -> None:
    assert parse_date("2028-02-29").isoformat() == "2028-02-29"
    assert parse_time("7:05") == time(7, 5)


# Every way a user can get the grammar wrong, and what the error carries.


@pytest.mark.parametrize(
    "text",
    [
        "weekly",
        "every fortnight at 10:00",
        "every week on tue",
        "every month on first tue on mon at 10:00",
        "every week on mon,funday at 10:00",
        "every 1000 days at 10:00",
        "on tuesday at 10:00 extra words",
    ],
)
def test_unreadable_schedule_shows_the_accepted_forms(text: str) -> None:
    error = refusal(parse, text)
    assert error.kind == "schedule_unreadable"
    assert error.data["text"] == " ".join(text.split())
    assert "every month on first tue at 15:00" in error.data["examples"]


def test_unknown_zone_suggests_the_closest_names() -> None:
    error = refusal(parse, "every day at 10:00 Europe/Berln")
    assert error.kind == "zone_unknown"
    assert error.data["zone"] == "Europe/Berln"
    assert error.data["suggestions"][0] == "Europe/Berlin"
    assert refusal(resolve_zone, "Berlin").data["suggestions"] == ["Europe/Berlin"]
    assert "America/New_York" in refusal(resolve_zone, "new york").data["suggestions"]
    assert refusal(resolve_zone, "qqqqqqq").data["suggestions"] == []


def test_one_off_in_the_past_is_refused() -> None:
    error = refusal(parse, "on 2025-01-10 at 10:00")  # exactly now in Berlin
    assert (error.kind, error.data) == (
        "schedule_in_past",
        {"when": "2025-01-10 10:00", "zone": "Europe/Berlin"},
    )
    assert parse("on 2025-01-10 at 10:01").start == datetime(2025, 1, 10, 10, 1)


@pytest.mark.parametrize(
    "text", ["every day at 24:00", "every day at 12:60", "on 2025-05-01 at 99:00"]
)
def test_time_out_of_range(text: str) -> None:
    error = refusal(parse, text)
    assert error.kind == "time_invalid"
    assert error.data == {"time": text.split(" at ")[1]}


@pytest.mark.parametrize(
    "day", ["2025-02-30", "2025-02-29", "2025-04-31", "2025-13-01", "2025-00-10"]
)
def test_dates_that_do_not_exist(day: str) -> None:
    error = refusal(parse, f"on {day} at 10:00")
    assert (error.kind, error.data) == ("date_invalid", {"date": day})


def test_unreadable_date_and_time_pieces() -> None:
    assert refusal(parse, "on tomorrow at 10:00").kind == "date_unreadable"
    assert refusal(parse_date, "1/2/2025").data == {"text": "1/2/2025"}
    assert refusal(parse_time, "noon").kind == "time_unreadable"
    error = refusal(parse, "every week at 3pm")
    assert (error.kind, error.data) == ("time_unreadable", {"text": "3pm"})


def test_an_interval_of_zero() -> None:
    error = refusal(parse, "every 0 weeks at 10:00")
    assert (error.kind, error.data) == (
        "schedule_interval_zero",
        {"text": "every 0 weeks at 10:00"},
    )


def test_an_ordinal_weekday_needs_a_monthly_rule() -> None:
    error = refusal(parse, "every week on first tue at 10:00")
    assert (error.kind, error.data) == (
        "schedule_ordinal_needs_month",
        {"ordinal": "first", "weekday": "tue"},
    )


def test_a_monthly_rule_on_a_plain_weekday_asks_which_one() -> None:
    error = refusal(parse, "every month on tuesday at 10:00")
    assert (error.kind, error.data) == ("schedule_which_weekday", {"weekday": "tue"})


@pytest.mark.parametrize("text", ["", "abc", "1.5h", "h", "1m30h", "12345"])
def test_unreadable_durations(text: str) -> None:
    error = refusal(parse_duration, text)
    assert (error.kind, error.data) == ("duration_unreadable", {"text": text})


@pytest.mark.parametrize("text", ["0", "0m", "25h", "1500"])
def test_durations_out_of_range(text: str) -> None:
    error = refusal(parse_duration, text)
    assert (error.kind, error.data) == ("duration_out_of_range", {"text": text, "longest": "1d"})


@pytest.mark.parametrize(
    "text", ["remind=", "remind=1x", "remind=1d,,1h", "1", "remind=0m", "1h1d"]
)
def test_unreadable_reminders(text: str) -> None:
    error = refusal(parse_reminders, text)
    assert (error.kind, error.data) == ("reminder_unreadable", {"text": text})


def test_a_reminder_longer_than_the_cadence_is_refused() -> None:
    weekly = parse("every week on mon,thu at 10:00")
    error = refusal(parse_reminders, "remind=1h,4d", schedule=weekly)
    assert (error.kind, error.data) == ("reminder_too_early", {"offset": "4d", "gap": "3d"})
    daily = parse("every day at 10:00")
    error = refusal(parse_reminders, "remind=1d1m", schedule=daily)
    assert error.data == {"offset": "1d1m", "gap": "1d"}
