"""Text that no chat platform sends and the database cannot hold, found in a parsed request.

PostgreSQL refuses a NUL character in text, and a lone UTF-16 surrogate (JSON `"\\ud800"`)
cannot be encoded for it at all: either would fail deep in a command with a 500 and the
generic apology. Slack and Teams never send them, so a request carrying one is refused at the
edge as unreadable (400), like any other malformed body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def text_problem(value: Any) -> str | None:
    """Why some string in `value` (a parsed JSON body, keys included) is unusable, or None."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "text with a NUL character"
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "text with a lone surrogate"
        elif isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None
