"""The iCalendar feed and single-meeting files, read back by an independent expander."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import recurring_ical_events
from icalendar import Calendar

from rituals.calendar import CalendarEntry, community_feed, occurrence_file
from rituals.recurrence import between, edit_from, move, occurrence_on, pause, skip, upcoming
from rituals.schedule import Schedule, parse_schedule

NOW = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
WINDOW = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))


def parse(text: str, now: datetime = NOW) -> Schedule:
    return parse_schedule(text, default_zone="Europe/Berlin", now=now)


def entry(uid: str, schedule: Schedule, **extra: object) -> CalendarEntry:
    fields: dict = {"sequence": 0, "summary": uid, "duration": timedelta(hours=1)}
    fields.update(extra)
    return CalendarEntry(uid=uid, schedule=schedule, **fields)


def read_back(feed: bytes, start: datetime, end: datetime) -> dict[str, list[datetime]]:
    """UTC starts per UID, as a calendar client would expand the feed."""
    found: dict[str, list[datetime]] = defaultdict(list)
    for event in recurring_ical_events.of(Calendar.from_ical(feed)).between(start, end):
        found[str(event["UID"])].append(event["DTSTART"].dt.astimezone(UTC))
    return {uid: sorted(starts) for uid, starts in found.items()}


def ours(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    return [o.start for o in between(schedule, start, end)]


def test_done_when_first_tuesday_in_berlin_reads_back_the_same_instants() -> None:
    schedule = parse("every month on first tue at 15:00 Europe/Berlin")
    six = upcoming(schedule, now=NOW, count=6)
    assert [f"{o.local:%Y-%m-%d %H:%M}" for o in six] == [
        "2025-02-04 15:00",
        "2025-03-04 15:00",
        "2025-04-01 15:00",
        "2025-05-06 15:00",
        "2025-06-03 15:00",
        "2025-07-01 15:00",
    ]
    feed = community_feed([entry("deep-dive@copbot", schedule)], name="Data CoP", stamp=NOW)
    read = read_back(feed, NOW, six[-1].start + timedelta(minutes=1))
    assert read == {"deep-dive@copbot": [o.start for o in six]}
    assert read["deep-dive@copbot"][1:3] == [
        datetime(2025, 3, 4, 14, 0, tzinfo=UTC),
        datetime(2025, 4, 1, 13, 0, tzinfo=UTC),
    ]


def test_a_feed_of_many_series_reads_back_as_we_expand_it() -> None:
    monthly = parse("every month on first tue at 15:00")
    weekly = parse("every week on mon at 09:00 America/New_York")
    weekly = skip(weekly, occurrence_on(weekly, date(2025, 3, 10)), now=NOW)
    weekly = move(
        weekly, occurrence_on(weekly, date(2025, 11, 3)), to=datetime(2025, 11, 4, 8), now=NOW
    )
    edited = edit_from(
        monthly,
        parse("every 2 weeks on thu at 16:00", datetime(2025, 5, 1, tzinfo=UTC)),
        now=datetime(2025, 5, 1, tzinfo=UTC),
    )
    assert edited.ended is not None
    schedules = {
        "berlin-monthly": monthly,
        "new-york-weekly": weekly,
        "ended": edited.ended,
        "edited": edited.current,
        "lord-howe-daily": parse("every day at 03:00 Australia/Lord_Howe"),
        "kolkata-last-friday": parse("every month on last fri at 18:30 Asia/Kolkata"),
        "paused-for-a-while": pause(
            parse("every week on wed at 11:00"), now=NOW, until=date(2025, 4, 2)
        ),
        "paused-for-good": pause(
            parse("every week on thu at 12:00 America/New_York"),
            now=datetime(2025, 6, 1, tzinfo=UTC),
        ),
        "one-off": parse("on 2025-10-26 at 02:30"),
        "month-end": parse("every month at 10:00", datetime(2025, 1, 31, 5, tzinfo=UTC)),
    }
    feed = community_feed(
        [entry(uid, schedule) for uid, schedule in schedules.items()], name="Data CoP", stamp=NOW
    )
    read = read_back(feed, *WINDOW)
    for uid, schedule in schedules.items():
        assert read.get(uid, []) == ours(schedule, *WINDOW), uid
    assert len(read["ended"]) == 3 and len(read["paused-for-good"]) == 20
    assert len(read["month-end"]) == 7


def test_a_meeting_in_the_spring_gap_reads_back_the_same() -> None:
    daily = parse("every day at 02:30", datetime(2025, 3, 28, tzinfo=UTC))
    window = (datetime(2025, 3, 28, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
    read = read_back(community_feed([entry("gap", daily)], name="x", stamp=NOW), *window)
    assert read["gap"] == ours(daily, *window)
    assert datetime(2025, 3, 30, 1, 30, tzinfo=UTC) in read["gap"]


def test_feed_fields_and_one_vtimezone_per_zone() -> None:
    berlin = parse("every month on first tue at 15:00")
    skipped = skip(berlin, occurrence_on(berlin, date(2025, 3, 4)), now=NOW)
    moved = move(
        skipped, occurrence_on(skipped, date(2025, 4, 1)), to=datetime(2025, 4, 2, 16), now=NOW
    )
    entries = [
        entry(
            "deep-dive-7@example.org",
            moved,
            sequence=3,
            summary="Deep dive",
            description="Topic: tracing",
            location="Room 4 / Zoom",
            url="https://example.org/r/7",
            duration=timedelta(minutes=90),
        ),
        entry("office-hours-2@example.org", parse("every week on fri at 14:00")),
        entry("ny@example.org", parse("every day at 09:00 America/New_York")),
    ]
    calendar = Calendar.from_ical(community_feed(entries, name="Data CoP", stamp=NOW))
    assert str(calendar["X-WR-CALNAME"]) == "Data CoP"
    assert str(calendar["PRODID"]) == "-//copbot//rituals//EN"
    assert sorted(str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")) == [
        "America/New_York",
        "Europe/Berlin",
    ]
    event = calendar.walk("VEVENT")[0]
    assert str(event["UID"]) == "deep-dive-7@example.org"
    assert event["SEQUENCE"] == 3
    assert (str(event["SUMMARY"]), str(event["DESCRIPTION"])) == ("Deep dive", "Topic: tracing")
    assert (str(event["LOCATION"]), str(event["URL"])) == (
        "Room 4 / Zoom",
        "https://example.org/r/7",
    )
    assert event["DURATION"].dt == timedelta(minutes=90)
    assert event["DTSTAMP"].dt == NOW
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event["DTSTART"].dt.replace(tzinfo=None) == datetime(2025, 2, 4, 15)
    assert event["RRULE"].to_ical() == b"FREQ=MONTHLY;BYDAY=1TU"
    assert event["EXDATE"].params["TZID"] == "Europe/Berlin"
    assert [d.dt.replace(tzinfo=None) for d in event["EXDATE"].dts] == [
        datetime(2025, 3, 4, 15),
        datetime(2025, 4, 1, 15),
    ]
    assert [d.dt.replace(tzinfo=None) for d in event["RDATE"].dts] == [datetime(2025, 4, 2, 16)]
    assert "DESCRIPTION" not in calendar.walk("VEVENT")[1]


def test_single_meeting_file() -> None:
    schedule = parse("every month on first tue at 15:00")
    april = occurrence_on(schedule, date(2025, 4, 1))
    ics = occurrence_file(
        entry("deep-dive-7@example.org", schedule, summary="Deep dive", url="https://x.org/7"),
        april,
        uid="deep-dive-7-20250401@example.org",
        stamp=NOW,
    )
    calendar = Calendar.from_ical(ics)
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == "deep-dive-7-20250401@example.org"
    assert "RRULE" not in event
    assert event["DTSTART"].dt.astimezone(UTC) == april.start
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    read = read_back(ics, *WINDOW)
    assert read == {"deep-dive-7-20250401@example.org": [datetime(2025, 4, 1, 13, tzinfo=UTC)]}
