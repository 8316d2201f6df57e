"""Every command's words (summary, usage, example, heading), read once from commands.yml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

COMMANDS_FILE = Path(__file__).with_name("commands.yml")


@dataclass(frozen=True, kw_only=True)
class CommandText:
    """What a person reads about one command."""

    name: str
    summary: str
    usage: str
    example: str
    group: str
    teams: bool = False  # listed in the Teams app's command menu


@cache
def command_texts() -> dict[str, CommandText]:
    """Every command's words by name, in the order `help` lists them."""
    loaded = yaml.safe_load(COMMANDS_FILE.read_text(encoding="utf-8"))
    return {name: CommandText(name=name, **fields) for name, fields in loaded.items()}


def command_text(name: str) -> CommandText:
    """The words of command `name`; a KeyError names a command missing from commands.yml."""
    return command_texts()[name]
