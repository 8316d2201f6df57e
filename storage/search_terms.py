"""The normalised terms a skill is found by, kept one per row in `expertise_terms`
so that `who` is an index lookup rather than a `LIKE '%…%'` over every skill."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+")


def normalised(text: str) -> str:
    """Lower case ("ß" becomes "ss"), whitespace collapsed: the form terms and topics share."""
    return " ".join(text.split()).casefold()


def terms_of(tag: str) -> set[str]:
    """What finds a skill: its whole tag, each space-separated part and each word.

    "Time-series forecasting" is found by "time-series forecasting", "time-series",
    "forecasting", "time" and "series"."""
    whole = normalised(tag)
    if not whole:
        return set()
    parts = whole.split(" ")
    return {whole, *parts, *(w for part in parts for w in _WORD.findall(part))}
