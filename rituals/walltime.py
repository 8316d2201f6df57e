"""Local wall-clock times and the instants they name, read the way RFC 5545 §3.3.5 says.

A wall time that does not exist (skipped by a spring-forward change) is read with the UTC offset
in force before the gap, so it lands as far after the gap's start as it was meant to be; a wall
time that happens twice (fall-back) is the first of the two.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def to_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The aware UTC instant that the naive local `wall` time names in `zone`."""
    if wall.tzinfo is not None:
        raise ValueError("a wall time is naive; its zone comes separately")
    # fold=0 reads a gap with the offset before it (PEP 495), as RFC 5545 asks, and picks the
    # first of two ambiguous instants; dateutil hands us such gap times unchanged (issue 1425).
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def to_wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive local wall time in `zone` at the aware `instant`."""
    if instant.tzinfo is None:
        raise ValueError("an instant must be timezone-aware")
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `zone` (after the gap if midnight is skipped)."""
    return to_instant(datetime.combine(day, time()), zone)


def exists(wall: datetime, zone: ZoneInfo) -> bool:
    """Whether the naive `wall` time is shown on clocks in `zone` (False inside a gap)."""
    return to_wall(to_instant(wall, zone), zone) == wall
