"""Ritual schedules: the phrase people type, and the RFC 5545 value it is stored as.

Accepted phrases::

    every [N] day|days|week|weeks|month|months [on <weekday>[,<weekday>...]]
          [on first|second|third|fourth|last <weekday>] at HH:MM [<IANA zone>]
    on YYYY-MM-DD at HH:MM [<IANA zone>]

A `Schedule` keeps DTSTART as a local wall time with its TZID, the RRULE, EXDATEs (skips) and
RDATEs (moves), plus a pause window of our own; it round-trips through plain JSON.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from itertools import islice, pairwise
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil import rrule as du

from bot.errors import UserError
from rituals.walltime import to_instant, to_wall

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
ORDINAL_WORDS = {number: word for word, number in ORDINALS.items()}

SCHEDULE_EXAMPLES = (
    "every month on first tue at 15:00",
    "every 2 weeks on mon,thu at 09:30 Europe/Berlin",
    "every day at 08:00",
    "on 2025-06-12 at 17:00 America/New_York",
)
LONGEST_DURATION = timedelta(hours=24)

_WEEKDAY = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*"
_LIST_SEPARATOR = r"\s*,\s*|\s+and\s+"
_RECURRING = re.compile(
    rf"""every
    (?:\s+(?P<interval>\d{{1,3}}))?
    \s+(?P<unit>day|week|month)s?
    (?:\s+on\s+(?P<weekdays>{_WEEKDAY}(?:(?:{_LIST_SEPARATOR}){_WEEKDAY})*))?
    (?:\s+on\s+(?:the\s+)?(?P<ordinal>first|second|third|fourth|last)\s+(?P<nth>{_WEEKDAY}))?
    \s+at\s+(?P<time>\S+)
    (?:\s+(?P<zone>\S+))?""",
    re.VERBOSE,
)
_ONE_OFF = re.compile(r"on\s+(?P<date>\S+)\s+at\s+(?P<time>\S+)(?:\s+(?P<zone>\S+))?")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_DURATION = re.compile(r"(?:(?P<h>\d{1,2})h)?(?:(?P<m>\d{1,4})m(?:in)?)?")
_OFFSET = re.compile(r"(?:(?P<d>\d{1,3})d)?(?:(?P<h>\d{1,4})h)?(?:(?P<m>\d{1,5})m)?")
_WALL_FORMAT = "%Y%m%dT%H%M%S"
_UTC_FORMAT = "%Y%m%dT%H%M%SZ"


class Frequency(StrEnum):
    """The RRULE FREQ values the grammar produces."""

    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


_UNITS = {"day": Frequency.DAILY, "week": Frequency.WEEKLY, "month": Frequency.MONTHLY}
_UNIT_WORDS = {frequency: word for word, frequency in _UNITS.items()}
_DATEUTIL_FREQ: dict[Frequency, Literal[2, 3, 1]] = {
    Frequency.DAILY: du.DAILY,
    Frequency.WEEKLY: du.WEEKLY,
    Frequency.MONTHLY: du.MONTHLY,
}


@dataclass(frozen=True, kw_only=True)
class Rule:
    """An RRULE: how a series repeats; the time of day comes from the schedule's DTSTART.

    `weekdays` count from 0 = Monday. `ordinal` (1..4, or -1 for last) goes with exactly one
    weekday in a monthly rule (BYDAY=1TU); `monthday` is BYMONTHDAY; `until` (aware, inclusive)
    ends the series."""

    freq: Frequency
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    ordinal: int | None = None
    monthday: int | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.interval < 1:
            raise ValueError("INTERVAL must be at least 1")
        if any(day not in range(7) for day in self.weekdays):
            raise ValueError("weekdays run from 0 (Monday) to 6 (Sunday)")
        object.__setattr__(self, "weekdays", tuple(sorted(set(self.weekdays))))
        if self.ordinal is not None and (
            self.freq is not Frequency.MONTHLY
            or len(self.weekdays) != 1
            or self.ordinal not in ORDINAL_WORDS
        ):
            raise ValueError("an ordinal weekday needs a monthly rule and exactly one weekday")
        if self.monthday is not None and (
            self.freq is not Frequency.MONTHLY or not 1 <= self.monthday <= 31
        ):
            raise ValueError("BYMONTHDAY needs a monthly rule and a day from 1 to 31")
        if self.until is not None and self.until.tzinfo is None:
            raise ValueError("UNTIL must be timezone-aware")

    def to_rrule(self) -> str:
        """The RFC 5545 RRULE value, e.g. ``FREQ=MONTHLY;BYDAY=1TU``."""
        parts = [f"FREQ={self.freq.value}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.weekdays:
            prefix = "" if self.ordinal is None else str(self.ordinal)
            parts.append("BYDAY=" + ",".join(prefix + WEEKDAY_CODES[d] for d in self.weekdays))
        if self.monthday is not None:
            parts.append(f"BYMONTHDAY={self.monthday}")
        if self.until is not None:
            parts.append(f"UNTIL={self.until.astimezone(UTC):{_UTC_FORMAT}}")
        return ";".join(parts)

    @classmethod
    def from_rrule(cls, text: str) -> Rule:
        """Reads an RRULE value this module wrote (FREQ, INTERVAL, BYDAY, BYMONTHDAY, UNTIL)."""
        values: dict[str, str] = {}
        for part in text.strip().upper().split(";"):
            name, _, value = part.partition("=")
            values[name] = value
        unknown = set(values) - {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "UNTIL"}
        if unknown:
            raise ValueError(f"unsupported RRULE parts: {sorted(unknown)}")
        ordinal = None
        weekdays = []
        for item in filter(None, values.get("BYDAY", "").split(",")):
            if item[:-2]:
                ordinal = int(item[:-2])
            weekdays.append(WEEKDAY_CODES.index(item[-2:]))
        until = None
        if "UNTIL" in values:
            until = datetime.strptime(values["UNTIL"], _UTC_FORMAT).replace(tzinfo=UTC)
        return cls(
            freq=Frequency(values["FREQ"]),
            interval=int(values.get("INTERVAL", "1")),
            weekdays=tuple(weekdays),
            ordinal=ordinal,
            monthday=int(values["BYMONTHDAY"]) if "BYMONTHDAY" in values else None,
            until=until,
        )

    def wall_times(self, dtstart: datetime) -> du.rrule:
        """The rule's naive wall times from `dtstart` on, ignoring UNTIL (an instant: the caller
        compares it with each occurrence's instant)."""
        byweekday: Any = None
        if self.weekdays:
            byweekday = [du.weekday(d, self.ordinal) for d in self.weekdays]
        return du.rrule(
            _DATEUTIL_FREQ[self.freq],
            dtstart=dtstart,
            interval=self.interval,
            byweekday=byweekday,
            bymonthday=self.monthday,
            cache=False,
        )


@dataclass(frozen=True, kw_only=True)
class Pause:
    """A window in which occurrences are held back: from `start` until `end` (aware instants;
    `end` None means until someone resumes)."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or (self.end is not None and self.end.tzinfo is None):
            raise ValueError("a pause is bounded by aware instants")

    def holds(self, instant: datetime) -> bool:
        """Whether an occurrence starting at `instant` falls in the pause."""
        return self.start <= instant and (self.end is None or instant < self.end)


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """When a ritual meets: DTSTART as a naive local wall time in the IANA `zone` (TZID), an
    optional RRULE (None: a one-off), EXDATEs and RDATEs as naive wall times in the same zone,
    and an optional pause window."""

    start: datetime
    zone: str
    rule: Rule | None = None
    exdates: tuple[datetime, ...] = ()
    rdates: tuple[datetime, ...] = ()
    pause: Pause | None = None
    tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        walls = (self.start, *self.exdates, *self.rdates)
        if any(wall.tzinfo is not None for wall in walls):
            raise ValueError(
                "DTSTART, EXDATE and RDATE are naive wall times in the schedule's zone"
            )
        try:
            object.__setattr__(self, "tz", ZoneInfo(self.zone))
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown zone {self.zone!r}") from error
        object.__setattr__(self, "exdates", tuple(sorted(set(self.exdates))))
        object.__setattr__(self, "rdates", tuple(sorted(set(self.rdates))))

    @property
    def dtstart(self) -> str:
        """DTSTART's value (local time; its TZID is `zone`)."""
        return f"{self.start:{_WALL_FORMAT}}"

    @property
    def rrule(self) -> str | None:
        """The RRULE value, or None for a one-off."""
        return None if self.rule is None else self.rule.to_rrule()

    @property
    def exdate(self) -> str:
        """The EXDATE value: comma-separated local times (TZID is `zone`); empty if none."""
        return ",".join(f"{wall:{_WALL_FORMAT}}" for wall in self.exdates)

    @property
    def rdate(self) -> str:
        """The RDATE value: comma-separated local times (TZID is `zone`); empty if none."""
        return ",".join(f"{wall:{_WALL_FORMAT}}" for wall in self.rdates)

    def to_json(self) -> dict[str, Any]:
        """Plain strings for storage; `Schedule.from_json` reads them back."""
        pause = None
        if self.pause is not None:
            pause = {
                "start": _utc_text(self.pause.start),
                "end": None if self.pause.end is None else _utc_text(self.pause.end),
            }
        return {
            "dtstart": self.dtstart,
            "tzid": self.zone,
            "rrule": self.rrule,
            "exdate": self.exdate,
            "rdate": self.rdate,
            "pause": pause,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Schedule:
        """The schedule `to_json` described."""
        pause = None
        if data.get("pause"):
            end = data["pause"].get("end")
            pause = Pause(
                start=_utc_from_text(data["pause"]["start"]),
                end=None if end is None else _utc_from_text(end),
            )
        return cls(
            start=_wall_from_text(data["dtstart"]),
            zone=data["tzid"],
            rule=Rule.from_rrule(data["rrule"]) if data.get("rrule") else None,
            exdates=tuple(map(_wall_from_text, filter(None, data.get("exdate", "").split(",")))),
            rdates=tuple(map(_wall_from_text, filter(None, data.get("rdate", "").split(",")))),
            pause=pause,
        )

    def describe(self) -> str:
        """The schedule in words, e.g. "every month on the first Tuesday at 15:00 Europe/Berlin"."""
        at = f"at {self.start:%H:%M} {self.zone}"
        rule = self.rule
        if rule is None:
            return f"on {WEEKDAY_NAMES[self.start.weekday()]} {self.start:%Y-%m-%d} {at}"
        unit = _UNIT_WORDS[rule.freq]
        words = f"every {unit}" if rule.interval == 1 else f"every {rule.interval} {unit}s"
        if rule.ordinal is not None:
            words += f" on the {ORDINAL_WORDS[rule.ordinal]} {WEEKDAY_NAMES[rule.weekdays[0]]}"
        elif rule.weekdays:
            words += " on " + _join_words([WEEKDAY_NAMES[day] for day in rule.weekdays])
        elif rule.monthday is not None:
            words += f" on day {rule.monthday}"
        words += " " + at
        if rule.until is not None:
            words += f", until {to_wall(rule.until, self.tz):%Y-%m-%d}"
        return words

    def shortest_gap(self) -> timedelta | None:
        """The least time between two consecutive meetings of the rule (None for a one-off)."""
        if self.rule is None:
            return None
        walls = list(islice(self.rule.wall_times(self.start), 60))
        gaps = [later - earlier for earlier, later in pairwise(walls)]
        return min(gaps, default=None)


def parse_schedule(text: str, *, default_zone: str, now: datetime) -> Schedule:
    """Reads a schedule phrase; a recurring one starts at its first meeting at or after `now`.

    The zone is the phrase's own or else `default_zone` (the community's)."""
    phrase = " ".join(text.split())
    if match := _RECURRING.fullmatch(phrase.lower()):
        return _recurring(match, phrase, default_zone=default_zone, now=now)
    if match := _ONE_OFF.fullmatch(phrase.lower()):
        zone = resolve_zone(_original_case(phrase, match, "zone") or default_zone)
        start = datetime.combine(parse_date(match["date"]), parse_time(match["time"]))
        if to_instant(start, ZoneInfo(zone)) <= now:
            raise UserError("schedule_in_past", when=f"{start:%Y-%m-%d %H:%M}", zone=zone)
        return Schedule(start=start, zone=zone)
    raise UserError("schedule_unreadable", text=phrase, examples=list(SCHEDULE_EXAMPLES))


def _recurring(match: re.Match[str], phrase: str, *, default_zone: str, now: datetime) -> Schedule:
    unit = match["unit"]
    interval = int(match["interval"] or 1)
    if interval == 0:
        raise UserError("schedule_interval_zero", text=phrase)
    at = parse_time(match["time"])
    zone = resolve_zone(_original_case(phrase, match, "zone") or default_zone)
    weekdays: tuple[int, ...] = ()
    if match["weekdays"]:
        names = re.split(_LIST_SEPARATOR, match["weekdays"])
        weekdays = tuple(_weekday(name, phrase) for name in names)
    if match["weekdays"] and match["ordinal"]:
        raise UserError("schedule_unreadable", text=phrase, examples=list(SCHEDULE_EXAMPLES))
    ordinal = None
    if match["ordinal"]:
        if unit != "month":
            raise UserError(
                "schedule_ordinal_needs_month", ordinal=match["ordinal"], weekday=match["nth"]
            )
        ordinal = ORDINALS[match["ordinal"]]
        weekdays = (_weekday(match["nth"], phrase),)
    elif unit == "month" and weekdays:
        raise UserError("schedule_which_weekday", weekday=WEEKDAY_NAMES[weekdays[0]].lower()[:3])
    tz = ZoneInfo(zone)
    today = to_wall(now, tz).date()
    monthday = None
    if unit == "week" and not weekdays:
        weekdays = (today.weekday(),)
    if unit == "month" and ordinal is None:
        monthday = today.day
    rule = Rule(
        freq=_UNITS[unit], interval=interval, weekdays=weekdays, ordinal=ordinal, monthday=monthday
    )
    # The first meeting is the soonest matching day; the interval counts from there.
    soonest = replace(rule, interval=1).wall_times(datetime.combine(today, at))
    start = next(wall for wall in soonest if to_instant(wall, tz) >= now)
    return Schedule(start=start, zone=zone, rule=rule)


def _weekday(name: str, phrase: str) -> int:
    """0 for ``mon``, ``monday`` or ``mondays``; also ``tues``, ``weds``, ``thurs``."""
    stem = name.removesuffix("s")
    for index, full in enumerate(WEEKDAY_NAMES):
        if len(stem) >= 3 and full.lower().startswith(stem):
            return index
    raise UserError("schedule_unreadable", text=phrase, examples=list(SCHEDULE_EXAMPLES))


def _original_case(phrase: str, match: re.Match[str], group: str) -> str | None:
    """A group's text as typed (the match ran over the lower-cased phrase)."""
    if match[group] is None:
        return None
    return phrase[match.start(group) : match.end(group)]


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def resolve_zone(name: str) -> str:
    """The canonical IANA name for `name` (any case); suggests the closest names if unknown."""
    names = _zone_names()
    if found := names.get(name.lower()):
        return found
    wanted = name.lower().replace(" ", "_")
    same_city = sorted(real for lower, real in names.items() if lower.rsplit("/")[-1] == wanted)
    close = [names[lower] for lower in difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)]
    cities = {lower.rsplit("/")[-1]: real for lower, real in sorted(names.items())}
    close_city = [cities[c] for c in difflib.get_close_matches(wanted, cities, n=3, cutoff=0.7)]
    suggestions = list(dict.fromkeys(same_city + close + close_city))[:3]
    raise UserError("zone_unknown", zone=name, suggestions=suggestions)


def parse_date(text: str) -> date:
    """A ``YYYY-MM-DD`` date that exists."""
    match = _DATE.fullmatch(text.strip())
    if not match:
        raise UserError("date_unreadable", text=text.strip())
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        raise UserError("date_invalid", date=text.strip()) from None


def parse_time(text: str) -> time:
    """A 24-hour ``HH:MM`` time of day."""
    match = _TIME.fullmatch(text.strip())
    if not match:
        raise UserError("time_unreadable", text=text.strip())
    hour, minute = map(int, match.groups())
    if hour > 23 or minute > 59:
        raise UserError("time_invalid", time=text.strip())
    return time(hour, minute)


def parse_duration(text: str) -> timedelta:
    """A meeting's length: ``60m``, ``1h``, ``1h30m`` or plain minutes (``90``)."""
    compact = "".join(text.lower().split())
    if compact.isdigit() and len(compact) <= 4:
        length = timedelta(minutes=int(compact))
    elif compact and (match := _DURATION.fullmatch(compact)):
        length = timedelta(hours=int(match["h"] or 0), minutes=int(match["m"] or 0))
    else:
        raise UserError("duration_unreadable", text=text.strip())
    if not timedelta(0) < length <= LONGEST_DURATION:
        raise UserError(
            "duration_out_of_range", text=text.strip(), longest=format_duration(LONGEST_DURATION)
        )
    return length


def parse_reminders(text: str, *, schedule: Schedule | None = None) -> tuple[timedelta, ...]:
    """Reminder offsets before a meeting (``remind=1d,1h``; units d, h, m), longest first.

    With a `schedule`, an offset longer than the least time between its meetings is refused."""
    body = text.strip()
    if body.lower().startswith("remind="):
        body = body[len("remind=") :]
    offsets = []
    for item in body.split(","):
        item = item.strip().lower()
        match = _OFFSET.fullmatch(item)
        if not item or match is None:
            raise UserError("reminder_unreadable", text=text.strip())
        offset = timedelta(
            days=int(match["d"] or 0), hours=int(match["h"] or 0), minutes=int(match["m"] or 0)
        )
        if offset <= timedelta(0):
            raise UserError("reminder_unreadable", text=text.strip())
        offsets.append(offset)
    gap = None if schedule is None else schedule.shortest_gap()
    for offset in offsets:
        if gap is not None and offset > gap:
            raise UserError(
                "reminder_too_early", offset=format_duration(offset), gap=format_duration(gap)
            )
    return tuple(sorted(set(offsets), reverse=True))


def format_duration(length: timedelta) -> str:
    """A compact length such as ``1d``, ``1h30m`` or ``45m`` (minutes precision)."""
    minutes = int(length.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n)
    return text or "0m"


def _join_words(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _utc_text(instant: datetime) -> str:
    return f"{instant.astimezone(UTC):{_UTC_FORMAT}}"


def _utc_from_text(text: str) -> datetime:
    return datetime.strptime(text, _UTC_FORMAT).replace(tzinfo=UTC)


def _wall_from_text(text: str) -> datetime:
    return datetime.strptime(text.strip(), _WALL_FORMAT)
