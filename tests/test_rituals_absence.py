"""Away periods as typed, and checking a day against them."""

from __future__ import annotations

from datetime import date

import pytest

from bot.errors import UserError
from rituals.absence import AwayPeriod, is_away, parse_away

TODAY = date(2025, 3, 10)


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2025-03-14 2025-03-28", date(2025, 3, 14), date(2025, 3, 28)),
        ("2025-03-14 to 2025-03-28", date(2025, 3, 14), date(2025, 3, 28)),
        ("2025-03-20", date(2025, 3, 20), date(2025, 3, 20)),
        ("2025-03-01 2025-03-10", date(2025, 3, 1), date(2025, 3, 10)),
    ],
)
def test_parse_away(text: str, first: date, last: date) -> None:
    assert parse_away(text, today=TODAY) == AwayPeriod(first=first, last=last)


def test_is_away_includes_both_ends() -> None:
    periods = [AwayPeriod(first=date(2025, 3, 14), last=date(2025, 3, 16))]
    assert [is_away(periods, date(2025, 3, d)) for d in (13, 14, 16, 17)] == [
        False,
        True,
        True,
        False,
    ]
    with pytest.raises(ValueError):
        AwayPeriod(first=date(2025, 3, 2), last=date(2025, 3, 1))


@pytest.mark.parametrize(
    ("text", "kind", "data"),
    [
        ("", "away_unreadable", {"text": ""}),
        ("next week", "date_unreadable", {"text": "next"}),
        (
            "2025-03-14 2025-03-20 2025-03-30",
            "away_unreadable",
            {"text": "2025-03-14 2025-03-20 2025-03-30"},
        ),
        ("2025-03-14 2025-02-30", "date_invalid", {"date": "2025-02-30"}),
        ("2025-03-20 2025-03-14", "away_backwards", {"first": "2025-03-20", "last": "2025-03-14"}),
        ("2025-02-01 2025-03-09", "away_in_past", {"last": "2025-03-09"}),
    ],
)
def test_refusals(text: str, kind: str, data: dict[str, str]) -> None:
    with pytest.raises(UserError) as caught:
        parse_away(text, today=TODAY)
    assert (caught.value.kind, caught.value.data) == (kind, data)
