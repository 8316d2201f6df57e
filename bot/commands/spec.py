"""What a command is: its name, usage, example, who may run it and its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.events import Origin
from bot.parsing import ParsedCommand
from bot.replies import Reply
from storage.models import Community, Member, Role


@dataclass(frozen=True, kw_only=True)
class Invocation:
    """One run of a command: who, where, what they typed, and their community standing."""

    origin: Origin
    command: ParsedCommand
    community: Community | None
    caller: Member | None

    def require_community(self) -> Community:
        # The router has checked this for commands that declare `needs_community`.
        assert self.community is not None
        return self.community


Handler = Callable[[Invocation], Awaitable[Reply | Sequence[Reply]]]
# A submitted form: who submitted it where, and field name to value.
FormHandler = Callable[[Origin, Mapping[str, str]], Awaitable[Reply | Sequence[Reply]]]


@dataclass(frozen=True, kw_only=True)
class CommandSpec:
    """A command in the registry. `roles` limits who may run it (None: anyone)."""

    name: str
    summary: str
    usage: str
    example: str
    handler: Handler
    needs_community: bool = False
    # False for commands that never look at the channel's community (saves a query).
    scoped: bool = True
    roles: frozenset[Role] | None = None
    aliases: tuple[str, ...] = ()
    group: str = "Community"  # the heading `help` lists it under
