"""iCalendar output: a community's feed of ritual series, and one meeting as an .ics file.

Times are written in each schedule's TZID with a VTIMEZONE per zone used, so calendar clients
keep 15:00 Berlin at 15:00 Berlin across DST; pauses become EXDATEs or an UNTIL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event, vRecur

from rituals.recurrence import Occurrence, fold_pause
from rituals.schedule import Schedule

PRODID = "-//copbot//rituals//EN"
TIMEZONE_YEARS = 10  # VTIMEZONE transitions are listed this far past the stamp


@dataclass(frozen=True, kw_only=True)
class CalendarEntry:
    """One ritual series as a calendar shows it. `uid` must stay the same for the series
    (e.g. ``ritual-42@example.org``) and `sequence` grow with each change to it."""

    uid: str
    sequence: int
    summary: str
    schedule: Schedule
    duration: timedelta
    description: str | None = None
    location: str | None = None
    url: str | None = None


def community_feed(entries: Sequence[CalendarEntry], *, name: str, stamp: datetime) -> bytes:
    """A VCALENDAR with one recurring VEVENT per entry; `stamp` (aware) is the DTSTAMP."""
    calendar = _calendar(stamp)
    calendar.add("x-wr-calname", name)
    earliest = stamp.date()
    for entry in entries:
        schedule = fold_pause(entry.schedule)
        event = _event(entry, stamp)
        event.add("dtstart", schedule.start.replace(tzinfo=schedule.tz))
        if schedule.rrule is not None:
            event.add("rrule", vRecur.from_ical(schedule.rrule))
        if schedule.exdates:
            event.add("exdate", [wall.replace(tzinfo=schedule.tz) for wall in schedule.exdates])
        if schedule.rdates:
            event.add("rdate", [wall.replace(tzinfo=schedule.tz) for wall in schedule.rdates])
        calendar.add_component(event)
        walls = (schedule.start, *schedule.exdates, *schedule.rdates)
        earliest = min(earliest, *(wall.date() for wall in walls))
    return _finish(calendar, earliest=earliest, stamp=stamp)


def occurrence_file(
    entry: CalendarEntry, occurrence: Occurrence, *, uid: str, stamp: datetime
) -> bytes:
    """A VCALENDAR with the single meeting `occurrence` of `entry`, for "Add to calendar".

    `uid` is the meeting's own stable UID (not the series'), so importing it does not clash
    with a subscribed feed."""
    calendar = _calendar(stamp)
    event = _event(entry, stamp, uid=uid)
    event.add("dtstart", occurrence.local)
    calendar.add_component(event)
    return _finish(calendar, earliest=occurrence.local.date(), stamp=stamp)


def _calendar(stamp: datetime) -> Calendar:
    if stamp.tzinfo is None:
        raise ValueError("the stamp must be timezone-aware")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    return calendar


def _event(entry: CalendarEntry, stamp: datetime, *, uid: str | None = None) -> Event:
    event = Event()
    event.add("uid", uid or entry.uid)
    event.add("dtstamp", stamp)
    event.add("sequence", entry.sequence)
    event.add("summary", entry.summary)
    event.add("duration", entry.duration)
    for key, value in (
        ("description", entry.description),
        ("location", entry.location),
        ("url", entry.url),
    ):
        if value:
            event.add(key, value)
    return event


def _finish(calendar: Calendar, *, earliest: date, stamp: datetime) -> bytes:
    last = date(stamp.year + TIMEZONE_YEARS, 1, 1)
    calendar.add_missing_timezones(first_date=earliest - timedelta(days=1), last_date=last)
    return calendar.to_ical()
