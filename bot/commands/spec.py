"""What a command is: its name, usage, example, who may run it and its handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.errors import UserError
from bot.events import Origin
from bot.parsing import ParsedCommand
from bot.replies import Button, Reply
from messages.commands import CommandText, command_text
from storage.models import Community, Member, Role


@dataclass(frozen=True, kw_only=True)
class Invocation:
    """One run of a command: who, where, what they typed, and their community standing."""

    origin: Origin
    command: ParsedCommand
    community: Community | None
    caller: Member | None

    def require_community(self) -> Community:
        """The channel's community, which the router has found for commands that declare
        `needs_community`; an archived one only says so (`setup` brings it back)."""
        assert self.community is not None
        if self.community.archived_at is not None:
            raise UserError("community_archived", name=self.community.name)
        return self.community


Handler = Callable[[Invocation], Awaitable[Reply | Sequence[Reply]]]


def page_option(command: ParsedCommand, usage: str) -> int:
    """The page a paged listing was asked for with `page=N` (1 when not given)."""
    raw = command.options.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise UserError("page_invalid", usage=usage, page=raw)
    return int(raw)


def show_more(line: str, page: int) -> tuple[Button, ...]:
    """The button under a page of a listing: it runs `line` for the next page."""
    return (Button(label="Show more", action="command", value=f"{line} page={page + 1}"),)


@dataclass(frozen=True, kw_only=True)
class CommandSpec:
    """A command in the registry. `roles` limits who may run it (None: anyone); `options`
    are the `key=value` options it takes, `mentions` whether it names people and `words`
    whether it reads words.

    Its words (summary, usage, example, heading) live in `messages/commands.yml`."""

    name: str
    handler: Handler
    needs_community: bool = False
    # False for commands that never look at the channel's community (saves a query).
    scoped: bool = True
    roles: frozenset[Role] | None = None
    aliases: tuple[str, ...] = ()
    options: frozenset[str] = frozenset()
    mentions: bool = False
    # A verb whose next word picks the command (`ritual add`): that command checks the rest.
    grouped: bool = False
    # False for a command that takes no words, so `export now` is questioned, not run.
    words: bool = True

    def check(self, command: ParsedCommand) -> None:
        """Refuse options this command does not take and people it does not expect, rather
        than let them vanish (`skills SQL, level=expert` would save only "SQL")."""
        if self.grouped:
            return
        unknown = sorted(set(command.options) - self.options)
        if unknown:
            raise UserError("option_unknown", usage=self.name, command=self.name, option=unknown[0])
        if command.words and not self.words:
            raise UserError(
                "words_unexpected", usage=self.name, command=self.name, word=command.words[0]
            )
        if command.users and not self.mentions:
            raise UserError(
                "mention_unexpected",
                usage=self.name,
                command=self.name,
                who=command.users[0].label,
            )

    @property
    def text(self) -> CommandText:
        return command_text(self.name)

    @property
    def usage(self) -> str:
        return self.text.usage
