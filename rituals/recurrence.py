"""Occurrences of a schedule, and the changes people make to single meetings or the series.

Expansion runs `dateutil.rrule` over naive wall times in the schedule's zone and turns each into
an instant with `rituals.walltime` (so 15:00 Berlin stays 15:00 Berlin across DST, a time in a
spring-forward gap moves on by the gap, an ambiguous time is the first). The rule is started
near the asked window, in step with DTSTART, rather than expanded from DTSTART every time.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from itertools import islice, takewhile

from dateutil.relativedelta import relativedelta

from bot.errors import UserError
from rituals.schedule import Frequency, Pause, Rule, Schedule
from rituals.walltime import start_of_day, to_instant, to_wall

_MARGIN = timedelta(days=2)  # wider than any UTC offset change, so no meeting is missed


@dataclass(frozen=True, kw_only=True)
class Occurrence:
    """One meeting: `start` is the aware UTC instant, `local` the same instant in the schedule's
    zone (its wall time is what clocks show), `recurrence_id` the naive wall time the schedule
    names it by (what EXDATE and RDATE hold; differs from `local` only inside a gap), and
    `moved` says it comes from an RDATE."""

    start: datetime
    local: datetime
    recurrence_id: datetime
    moved: bool = False

    @property
    def day(self) -> date:
        """The local date of the meeting."""
        return self.local.date()


@dataclass(frozen=True, kw_only=True)
class Edit:
    """A series edited from now on: `ended` is the old series cut at its last meeting before the
    edit (None if it never met), `current` the new series."""

    ended: Schedule | None
    current: Schedule


def iter_occurrences(schedule: Schedule, *, since: datetime) -> Iterator[Occurrence]:
    """Every occurrence starting at or after the aware instant `since`, ascending."""
    if since.tzinfo is None:
        raise ValueError("since must be timezone-aware")
    pause = schedule.pause
    moved = (_occurrence(schedule, wall, moved=True) for wall in schedule.rdates)
    candidates = heapq.merge(
        _from_rule(schedule, since),
        sorted((o for o in moved if o.start >= since), key=lambda o: o.start),
        key=lambda occurrence: occurrence.start,
    )
    exdates = set(schedule.exdates)
    last: datetime | None = None
    for occurrence in candidates:
        if pause is not None and pause.end is None and occurrence.start >= pause.start:
            return
        if (
            occurrence.start < since
            or occurrence.start == last
            or occurrence.recurrence_id in exdates
            or (pause is not None and pause.holds(occurrence.start))
        ):
            continue
        last = occurrence.start
        yield occurrence


def between(schedule: Schedule, start: datetime, end: datetime) -> list[Occurrence]:
    """Occurrences with `start` <= occurrence.start < `end` (aware instants), ascending."""
    return list(
        takewhile(lambda o: o.start < end, iter_occurrences(schedule, since=start)),
    )


def upcoming(schedule: Schedule, *, now: datetime, count: int) -> list[Occurrence]:
    """The next `count` occurrences starting at or after `now`."""
    return list(islice(iter_occurrences(schedule, since=now), count))


def next_occurrence(schedule: Schedule, *, now: datetime) -> Occurrence | None:
    """The first occurrence starting at or after `now`, or None if the series is over."""
    return next(iter_occurrences(schedule, since=now), None)


def last_before(schedule: Schedule, *, now: datetime) -> Occurrence | None:
    """The latest occurrence that started before `now`, or None."""
    for lookback in (timedelta(days=400), None):
        since = to_instant(schedule.start, schedule.tz) if lookback is None else now - lookback
        found = between(schedule, since, now)
        if found:
            return found[-1]
    return None


def occurrence_on(schedule: Schedule, day: date, *, now: datetime | None = None) -> Occurrence:
    """The (first) occurrence on the local date `day`; refuses with the next dates if none
    (from `now` on when given: a past date should not be answered with past meetings)."""
    since = start_of_day(day, schedule.tz)
    for occurrence in iter_occurrences(schedule, since=since):
        if occurrence.day == day:
            return occurrence
        break
    later = islice(iter_occurrences(schedule, since=since if now is None else max(since, now)), 3)
    raise UserError(
        "occurrence_missing",
        date=day.isoformat(),
        nearby=[occurrence.day.isoformat() for occurrence in later],
    )


def skip(schedule: Schedule, occurrence: Occurrence, *, now: datetime) -> Schedule:
    """The schedule without `occurrence` (an EXDATE, or dropping the RDATE of a moved one)."""
    _check_upcoming(schedule, occurrence, now=now)
    if occurrence.moved:
        rdates = tuple(d for d in schedule.rdates if d != occurrence.recurrence_id)
        return replace(schedule, rdates=rdates)
    return replace(schedule, exdates=(*schedule.exdates, occurrence.recurrence_id))


def move(schedule: Schedule, occurrence: Occurrence, *, to: datetime, now: datetime) -> Schedule:
    """The schedule with `occurrence` moved to the naive local wall time `to` (EXDATE + RDATE).

    Refuses a time already past or taken by another occurrence. Moving a meeting back to a time
    the rule gives restores it rather than adding an RDATE."""
    _check_upcoming(schedule, occurrence, now=now)
    target = to_instant(to, schedule.tz)
    when = f"{to:%Y-%m-%d %H:%M}"
    if target <= now:
        raise UserError("move_in_past", when=when, zone=schedule.zone)
    if any(o != occurrence for o in between(schedule, target, target + timedelta(seconds=1))):
        raise UserError("move_clash", when=when, zone=schedule.zone)
    if schedule.rule is None and not occurrence.moved:
        return replace(schedule, start=to)
    exdates = set(schedule.exdates)
    rdates = set(schedule.rdates)
    if occurrence.moved:
        rdates.discard(occurrence.recurrence_id)
    else:
        exdates.add(occurrence.recurrence_id)
    if to in exdates:
        exdates.discard(to)
    else:
        rdates.add(to)
    return replace(schedule, exdates=tuple(exdates), rdates=tuple(rdates))


def edit_from(schedule: Schedule, new: Schedule, *, now: datetime) -> Edit:
    """Replaces the series from its next occurrence on with `new` (parsed with the same `now`).

    The old series ends at its last meeting before `now`: its RRULE gets that instant as UNTIL
    and loses the skips and moves after it. An active pause carries over to the new series.
    Both keep the schedule's zone; give each its own calendar UID."""
    held = schedule.pause
    current = replace(new, pause=held if held and _pause_active(held, now) else None)
    last = last_before(schedule, now=now)
    if last is None:
        return Edit(ended=None, current=current)
    ended = replace(
        schedule,
        exdates=tuple(d for d in schedule.exdates if d <= last.recurrence_id),
        rdates=tuple(d for d in schedule.rdates if to_instant(d, schedule.tz) <= last.start),
        pause=held if held and held.start <= last.start else None,
    )
    if schedule.rule is not None:
        rule = schedule.rule
        until = last.start if rule.until is None else min(rule.until, last.start)
        ended = replace(ended, rule=replace(rule, until=until))
        if to_instant(schedule.start, schedule.tz) > until:
            # Only meetings moved before the first one took place; DTSTART counts as a
            # meeting in RFC 5545 whatever UNTIL says, so it is excluded by name.
            ended = replace(ended, exdates=(*ended.exdates, schedule.start))
    return Edit(ended=ended, current=current)


def pause(schedule: Schedule, *, now: datetime, until: date | None = None) -> Schedule:
    """The schedule paused from `now` until the local date `until` (meetings resume that day),
    or until `resume` when `until` is None. Pausing a paused schedule extends the pause."""
    if until is not None and until <= to_wall(now, schedule.tz).date():
        raise UserError("pause_until_past", until=until.isoformat())
    start = now
    if schedule.pause is not None and _pause_active(schedule.pause, now):
        start = schedule.pause.start
    end = None if until is None else start_of_day(until, schedule.tz)
    return replace(schedule, pause=Pause(start=start, end=end))


def resume(schedule: Schedule, *, now: datetime) -> Schedule:
    """The schedule with its pause ended at `now`; meetings from `now` on take place again."""
    if schedule.pause is None or not _pause_active(schedule.pause, now):
        raise UserError("not_paused")
    return replace(schedule, pause=Pause(start=schedule.pause.start, end=now))


def _pause_active(window: Pause, now: datetime) -> bool:
    return window.end is None or now < window.end


def _check_upcoming(schedule: Schedule, occurrence: Occurrence, *, now: datetime) -> None:
    if occurrence not in between(schedule, occurrence.start, occurrence.start + timedelta(1)):
        raise ValueError("not an occurrence of this schedule")
    if occurrence.start <= now:
        raise UserError("occurrence_past", date=occurrence.day.isoformat())


def _occurrence(schedule: Schedule, wall: datetime, *, moved: bool = False) -> Occurrence:
    start = to_instant(wall, schedule.tz)
    return Occurrence(
        start=start, local=start.astimezone(schedule.tz), recurrence_id=wall, moved=moved
    )


def _from_rule(schedule: Schedule, since: datetime) -> Iterator[Occurrence]:
    """DTSTART and the rule's occurrences from a little before `since`, ascending, up to UNTIL."""
    if to_instant(schedule.start, schedule.tz) >= since - _MARGIN:
        yield _occurrence(schedule, schedule.start)
    rule = schedule.rule
    if rule is None:
        return
    anchor = _anchor(rule, schedule.start, to_wall(since, schedule.tz) - _MARGIN)
    for wall in rule.wall_times(anchor):
        if wall == schedule.start:
            continue
        occurrence = _occurrence(schedule, wall)
        if rule.until is not None and occurrence.start > rule.until:
            return
        yield occurrence


def _anchor(rule: Rule, start: datetime, near: datetime) -> datetime:
    """A wall time in step with `start` under `rule` and a whole period or more before `near`.

    Starting the rule there yields the same meetings after `near` as starting it at `start`:
    whole periods keep the phase, and the monthly rules we write name their day explicitly."""
    if near <= start:
        return start
    if rule.freq is Frequency.DAILY:
        periods = (near - start).days // rule.interval - 1
        return start + timedelta(days=max(periods, 0) * rule.interval)
    if rule.freq is Frequency.WEEKLY:
        week = start - timedelta(days=start.weekday())
        periods = (near - week).days // (7 * rule.interval) - 1
        return start + timedelta(weeks=max(periods, 0) * rule.interval)
    if not rule.weekdays and rule.monthday is None:
        return start  # the day of the month comes from DTSTART itself: keep it
    months = (near.year - start.year) * 12 + near.month - start.month
    periods = max(months // rule.interval - 1, 0)
    return start.replace(day=1) + relativedelta(months=periods * rule.interval)


def fold_pause(schedule: Schedule) -> Schedule:
    """The same occurrences with the pause written in RFC 5545 terms, for calendars that know
    nothing of pauses: held meetings become EXDATEs, an open-ended pause an UNTIL."""
    held = schedule.pause
    if held is None:
        return schedule
    free = replace(schedule, pause=None)
    if held.end is None:
        cut = held.start - timedelta(seconds=1)
        folded = replace(
            free, rdates=tuple(d for d in free.rdates if to_instant(d, free.tz) < held.start)
        )
        if free.rule is not None:
            until = cut if free.rule.until is None else min(free.rule.until, cut)
            folded = replace(folded, rule=replace(free.rule, until=until))
        if to_instant(free.start, free.tz) >= held.start:
            folded = replace(folded, exdates=(*folded.exdates, free.start))
        return folded
    within = between(free, held.start, held.end)
    moved = {o.recurrence_id for o in within if o.moved}
    return replace(
        free,
        exdates=(*free.exdates, *(o.recurrence_id for o in within if not o.moved)),
        rdates=tuple(d for d in free.rdates if d not in moved),
    )
