"""`help`: every command with usage and an example, or one command in detail."""

from __future__ import annotations

from typing import Any

from bot.commands.registry import CommandRegistry
from bot.commands.spec import CommandSpec, Invocation
from bot.errors import UserError
from bot.replies import Reply
from bot.vocabulary import ROLE_PLURALS, ROLES


def command_data(spec: CommandSpec) -> dict[str, Any]:
    text = spec.text
    return {
        "name": spec.name,
        "summary": text.summary,
        "usage": text.usage,
        "example": text.example,
        "aliases": list(spec.aliases),
        "roles": [ROLE_PLURALS[r] for r in ROLES if spec.roles and r in spec.roles],
        "group": text.group,
    }


class HelpCommands:
    def __init__(self, registry: CommandRegistry) -> None:
        self._registry = registry
        self._overview: Reply | None = None  # the same for everyone: built once

    def specs(self) -> list[CommandSpec]:
        return [
            CommandSpec(
                name="help",
                handler=self.help,
                aliases=("?",),
                scoped=False,
            )
        ]

    async def help(self, inv: Invocation) -> Reply:
        words = inv.command.words
        if words:
            # `help ritual add` explains a subcommand, `help ritual` the whole group.
            spec = self._registry.get(" ".join(words[:2])) or self._registry.get(words[0])
            if spec is None:
                suggestion = self._registry.suggest(words[0])
                raise UserError(
                    "no_such_command", usage="help", name=words[0], suggestion=suggestion
                )
            return Reply(kind="help_command", data={"command": command_data(spec)})
        if self._overview is None:
            groups: dict[str, list[dict[str, Any]]] = {}
            for spec in self._registry.specs:
                groups.setdefault(spec.text.group, []).append(command_data(spec))
            self._overview = Reply(
                kind="help",
                data={
                    "groups": [
                        {"name": name, "commands": commands} for name, commands in groups.items()
                    ],
                },
            )
        return self._overview
