"""The arithmetic of a community's health, free of the database: trends between two periods
and the warning signs read from a history of meetings."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

FALLING_RUN = 3  # meetings in a row, each with fewer people than the one before
CARRYING_SHARE = 0.5  # one person leading more than this share of the meetings…
CARRYING_MINIMUM = 4  # …of at least this many meetings with a facilitator


@dataclass(frozen=True, kw_only=True)
class Session:
    """One meeting that took place: who led it, how many came (None: nobody recorded it),
    and its pulse (the mean score of its pulse votes, None without votes)."""

    occurrence_id: int
    ritual_number: int
    ritual_title: str
    starts_at: datetime
    facilitator: str | None
    attendees: int | None
    pulse_total: int = 0
    pulse_votes: int = 0

    @property
    def pulse(self) -> float | None:
        return self.pulse_total / self.pulse_votes if self.pulse_votes else None


@dataclass(frozen=True, kw_only=True)
class Figures:
    """What one period of a community amounts to."""

    active: int = 0
    new: int = 0
    returning: int = 0
    sessions: int = 0
    attendance: float | None = None  # people per meeting where attendance was recorded
    pulse: float | None = None  # mean pulse score, 1 (not useful) to 4 (great)
    pulse_votes: int = 0
    resources: int = 0
    wins: int = 0
    kudos: int = 0
    facilitators: int = 0


def trend(now: float | None, before: float | None) -> dict[str, Any]:
    """A figure beside the previous period's, both as shown (one decimal): `direction` is up,
    down, same, new (nothing to compare with) or none (nothing either time)."""
    shown, was = _rounded(now), _rounded(before)
    if shown is None and was is None:
        direction = "none"
    elif was is None:
        direction = "new"
    elif shown is None:
        direction = "down"
    else:
        direction = "up" if shown > was else "down" if shown < was else "same"
    return {"now": shown, "before": was, "direction": direction}


def _rounded(value: float | None) -> float | int | None:
    if value is None:
        return None
    return value if isinstance(value, int) else round(value, 1)


def figures_of(
    sessions: Sequence[Session],
    *,
    active: int,
    new: int,
    resources: int,
    wins: int,
    kudos: int,
) -> Figures:
    """A period's figures from its meetings and its counts."""
    recorded = [s.attendees for s in sessions if s.attendees is not None]
    votes = sum(s.pulse_votes for s in sessions)
    return Figures(
        active=active,
        new=new,
        returning=active - new,
        sessions=len(sessions),
        attendance=sum(recorded) / len(recorded) if recorded else None,
        pulse=sum(s.pulse_total for s in sessions) / votes if votes else None,
        pulse_votes=votes,
        resources=resources,
        wins=wins,
        kudos=kudos,
        facilitators=len({s.facilitator for s in sessions if s.facilitator}),
    )


def trends(now: Figures, before: Figures) -> dict[str, dict[str, Any]]:
    """Each figure with its trend, by name."""
    names = (
        "active",
        "new",
        "returning",
        "sessions",
        "attendance",
        "pulse",
        "resources",
        "wins",
        "kudos",
        "facilitators",
    )
    return {name: trend(getattr(now, name), getattr(before, name)) for name in names}


def falling_attendance(sessions: Sequence[Session]) -> list[dict[str, Any]]:
    """Rituals whose last `FALLING_RUN` recorded meetings each had fewer people than the one
    before: the ritual and the counts, oldest first."""
    by_ritual: dict[int, list[Session]] = {}
    for session in sorted(sessions, key=lambda s: s.starts_at):
        if session.attendees is not None:
            by_ritual.setdefault(session.ritual_number, []).append(session)
    found = []
    for number, held in sorted(by_ritual.items()):
        last = [s.attendees or 0 for s in held[-(FALLING_RUN + 1) :]]
        if len(last) == FALLING_RUN + 1 and all(b < a for a, b in itertools.pairwise(last)):
            found.append({"number": number, "title": held[-1].ritual_title, "counts": last})
    return found


def carrying(sessions: Sequence[Session]) -> tuple[str, int, int] | None:
    """(person, meetings they led, meetings with a facilitator) when one person led more than
    `CARRYING_SHARE` of at least `CARRYING_MINIMUM` meetings."""
    led = Counter(s.facilitator for s in sessions if s.facilitator)
    total = sum(led.values())
    if total < CARRYING_MINIMUM:
        return None
    person, count = max(led.items(), key=lambda item: (item[1], item[0]))
    return (person, count, total) if count > total * CARRYING_SHARE else None
