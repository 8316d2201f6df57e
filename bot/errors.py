"""Errors the core raises for the user to see."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class UserError(Exception):
    """Something the user can fix; `kind`/`data` pick the friendly message shown to them."""

    def __init__(
        self,
        message: str,
        *,
        usage: str | None = None,
        kind: str = "error",
        data: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.kind = kind
        self.data = dict(data or {})
