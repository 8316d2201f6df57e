"""Text as it enters the core: no control characters, no lone surrogates, bounded names.

PostgreSQL refuses NUL where SQLite stores it, and a column refuses what is too long; cleaning
at the edge makes both databases keep the same thing and never fail on what people type."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from bot.events import Origin
from bot.vocabulary import CHANNEL_NAME_MAX, DISPLAY_NAME_MAX

# Characters that break a line, in any of the conventions text arrives in.
_LINE_BREAKS = re.compile(r"\r\n|[\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_TABS = re.compile(r"[\t\x1f]")
# What is left of the C0 and C1 controls (NUL among them) and UTF-16 halves (unencodable).
_DROPPED = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
ELLIPSIS = "…"


def clean(text: str, *, multiline: bool = False) -> str:
    """`text` in NFC without control characters; tabs become spaces, and line breaks become
    spaces too unless `multiline`, where they become `\\n`."""
    text = _DROPPED.sub("", _TABS.sub(" ", _LINE_BREAKS.sub("\n", text)))
    if not multiline:
        text = text.replace("\n", " ")
    return unicodedata.normalize("NFC", text)


def one_line(text: str) -> str:
    """`text` cleaned, with runs of white space as one space and none at either end."""
    return " ".join(clean(text).split())


def shortened(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def clean_name(name: str, limit: int) -> str:
    """A name a platform sent (the user cannot fix it): one clean line, silently shortened."""
    return shortened(one_line(name), limit)


def clean_origin(origin: Origin) -> Origin:
    """`origin` with its display and channel names clean and short enough to store."""
    user_name = clean_name(origin.user_name, DISPLAY_NAME_MAX)
    channel_name = (
        clean_name(origin.channel_name, CHANNEL_NAME_MAX) or None
        if origin.channel_name is not None
        else None
    )
    if (user_name, channel_name) == (origin.user_name, origin.channel_name):
        return origin
    return replace(origin, user_name=user_name, channel_name=channel_name)
