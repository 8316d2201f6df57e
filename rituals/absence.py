"""Away periods: when a member should not be given a ritual to facilitate or a partner."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.errors import UserError
from rituals.schedule import parse_date


@dataclass(frozen=True, kw_only=True)
class AwayPeriod:
    """Away from `first` to `last`, both local dates, inclusive."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("an away period cannot end before it starts")

    def covers(self, day: date) -> bool:
        """Whether the member is away on `day`."""
        return self.first <= day <= self.last


def parse_away(text: str, *, today: date) -> AwayPeriod:
    """Reads ``YYYY-MM-DD YYYY-MM-DD`` (first and last day away; ``to`` between them is fine,
    one date means one day). Refuses a period that ends before it starts or before `today`."""
    words = [word for word in text.split() if word.lower() != "to"]
    if not 1 <= len(words) <= 2:
        raise UserError("away_unreadable", text=text.strip())
    first = parse_date(words[0])
    last = parse_date(words[-1])
    if last < first:
        raise UserError("away_backwards", first=first.isoformat(), last=last.isoformat())
    if last < today:
        raise UserError("away_in_past", last=last.isoformat())
    return AwayPeriod(first=first, last=last)


def is_away(periods: Iterable[AwayPeriod], day: date) -> bool:
    """Whether any of `periods` covers `day`."""
    return any(period.covers(day) for period in periods)
