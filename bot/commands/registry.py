"""The command registry: lookup by name or alias, and "did you mean" suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from bot.commands.spec import CommandSpec


class CommandRegistry:
    def __init__(self, specs: Iterable[CommandSpec] = ()) -> None:
        self._specs: list[CommandSpec] = []
        self._by_name: dict[str, CommandSpec] = {}
        for spec in specs:
            self.add(spec)

    def add(self, spec: CommandSpec) -> None:
        for name in (spec.name, *spec.aliases):
            if name in self._by_name:
                raise ValueError(f"command name {name!r} is registered twice")
            self._by_name[name] = spec
        self._specs.append(spec)

    def get(self, name: str) -> CommandSpec | None:
        return self._by_name.get(name.lower())

    @property
    def specs(self) -> tuple[CommandSpec, ...]:
        return tuple(self._specs)

    def suggest(self, name: str) -> str | None:
        """The closest command name to a mistyped one, if any is close enough."""
        lowered = name.lower()
        prefixed = [n for n in self._by_name if n.startswith(lowered)] if len(lowered) > 1 else []
        if len(prefixed) == 1:
            return self._by_name[prefixed[0]].name
        close = difflib.get_close_matches(lowered, list(self._by_name), n=1, cutoff=0.6)
        return self._by_name[close[0]].name if close else None
