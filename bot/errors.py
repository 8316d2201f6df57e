"""Errors the core raises for the user to see."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """Something the user can fix.

    `kind` names the sentence (a macro in `messages/templates/errors/`), `data` fills it in;
    `usage` names the command whose usage to show, `field` the form field the error is about.
    The core never writes the sentence itself: each surface renders it from the template."""

    def __init__(
        self, kind: str, *, usage: str | None = None, field: str | None = None, **data: Any
    ) -> None:
        super().__init__(kind)
        self.kind = kind
        self.usage = usage
        self.field = field
        self.data = data

    def __repr__(self) -> str:
        return (
            f"UserError({self.kind!r}, usage={self.usage!r}, field={self.field!r}, {self.data!r})"
        )
