"""The command registry: lookup by name or alias, "did you mean" suggestions, and groups of
subcommands (`ritual add`, `rotation #3 skip`) that share one verb."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from bot.commands.spec import CommandSpec, Invocation
from bot.errors import UserError
from bot.events import Origin
from bot.handlers import as_list
from bot.parsing import ParsedCommand
from bot.replies import Reply
from bot.services.communities import CommunityService
from bot.vocabulary import ROLE_PLURALS, ROLES

# A reference to a numbered thing (`#3`): a subcommand's word may follow it.
_REFERENCE = re.compile(r"#\d+")


def check_allowed(spec: CommandSpec, inv: Invocation) -> None:
    """Refuse a command run where it needs a community and has none, or by a role it does
    not allow (the router checks a verb this way; a group checks its subcommands)."""
    spec.check(inv.command)
    if spec.needs_community and inv.community is None:
        if inv.origin.is_direct:
            raise UserError("run_in_channel", usage=spec.name, command=spec.name)
        raise UserError("no_community_here", usage=spec.name)
    if spec.roles is not None and (inv.caller is None or inv.caller.role not in spec.roles):
        allowed = [ROLE_PLURALS[r] for r in ROLES if r in spec.roles]
        raise UserError("role_required", roles=allowed, command=spec.name)


class CommandGroup:
    """The subcommands of one verb. The word after the verb picks one (`ritual add …`), or
    the word after a `#N` reference (`rotation #3 skip`); a command registered under the verb
    alone handles everything else (`rotation #3`)."""

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.subcommands: dict[str, CommandSpec] = {}
        self.fallback: CommandSpec | None = None
        self.spec = CommandSpec(name=verb, handler=self.dispatch, grouped=True)

    async def dispatch(self, inv: Invocation) -> Reply | Sequence[Reply]:
        args = inv.command.args
        at = 1 if args and isinstance(args[0], str) and _REFERENCE.fullmatch(args[0]) else 0
        word = ""
        if len(args) > at and isinstance(found := args[at], str):
            word = found
        spec = self.subcommands.get(word.lower())
        if spec is not None:
            args = (*args[:at], *args[at + 1 :])
        elif self.fallback is not None:
            spec = self.fallback
        else:
            close = difflib.get_close_matches(word.lower(), list(self.subcommands), n=1)
            raise UserError(
                "subcommand_unknown",
                usage=self.verb,
                verb=self.verb,
                word=word,
                suggestion=f"{self.verb} {close[0]}" if close else None,
            )
        command = replace(inv.command, verb=spec.name, args=args)
        check_allowed(spec, replace(inv, command=command))
        return await spec.handler(replace(inv, command=command))


class CommandRegistry:
    def __init__(self, specs: Iterable[CommandSpec] = ()) -> None:
        self._specs: list[CommandSpec] = []
        self._by_name: dict[str, CommandSpec] = {}
        self._groups: dict[str, CommandGroup] = {}
        for spec in specs:
            self.add(spec)

    def add(self, spec: CommandSpec) -> None:
        """Register a command; a name of two words (`ritual add`) is a subcommand."""
        verb, _, word = spec.name.partition(" ")
        group = self._groups.get(verb)
        if word:
            if group is None:
                group = self._groups[verb] = CommandGroup(verb)
                fallback = self._by_name.get(verb)
                group.fallback = fallback
                self._by_name[verb] = group.spec
            for name in (spec.name, *spec.aliases):
                if name in self._by_name:
                    raise ValueError(f"command name {name!r} is registered twice")
                self._by_name[name] = spec
                group.subcommands[name.partition(" ")[2]] = spec
        else:
            for name in (spec.name, *spec.aliases):
                taken = self._by_name.get(name)
                if taken is not None and not (group is not None and taken is group.spec):
                    raise ValueError(f"command name {name!r} is registered twice")
                if group is None or name != verb:
                    self._by_name[name] = spec
            if group is not None:
                if group.fallback is not None:
                    raise ValueError(f"command name {verb!r} is registered twice")
                group.fallback = spec
        self._specs.append(spec)

    def get(self, name: str) -> CommandSpec | None:
        """The command called `name` (a verb, or a verb and a subcommand's word)."""
        return self._by_name.get(" ".join(name.lower().split()))

    @property
    def specs(self) -> tuple[CommandSpec, ...]:
        """Every command a person can run (subcommands, not their groups), as registered."""
        return tuple(self._specs)

    def suggest(self, name: str) -> str | None:
        """The closest command name to a mistyped one, if any is close enough."""
        lowered = name.lower()
        verbs = [n for n in self._by_name if " " not in n]
        prefixed = [n for n in verbs if n.startswith(lowered)] if len(lowered) > 1 else []
        if len(prefixed) == 1:
            return self._by_name[prefixed[0]].name
        close = difflib.get_close_matches(lowered, verbs, n=1, cutoff=0.6)
        return self._by_name[close[0]].name if close else None


async def run_command(
    registry: CommandRegistry,
    communities: CommunityService,
    origin: Origin,
    command: ParsedCommand,
) -> list[Reply]:
    """Run one parsed command as `origin.user` where `origin` says, with the command's own
    checks (options, community, role): the same for a typed line, a button and a form."""
    spec = registry.get(command.verb)
    if spec is None:
        suggestion = registry.suggest(command.verb)
        raise UserError("unknown_command", usage="help", verb=command.verb, suggestion=suggestion)
    spec.check(command)  # before any query: a typo in an option costs nothing
    community, caller = await communities.where_and_who(origin) if spec.scoped else (None, None)
    invocation = Invocation(origin=origin, command=command, community=community, caller=caller)
    check_allowed(spec, invocation)
    return as_list(await spec.handler(invocation))
