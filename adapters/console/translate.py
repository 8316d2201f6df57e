"""Console input to neutral events: `@name` mentions become `<@name|name>`."""

from __future__ import annotations

import re
import unicodedata

from bot.events import CommandInvoked, HomeOpened, Origin

PLATFORM = "console"
WORKSPACE = "local"
# `@name` in any script (`@José`, `@李雷`); dots and hyphens inside a name, not at its end.
_MENTION = re.compile(r"(?<![\w<@])@(\w(?:[\w.\-]*\w)?)")


def user_id(name: str) -> str:
    """Console users are known by their lower-cased name (in NFC, however it was typed)."""
    return unicodedata.normalize("NFC", name.strip()).lower()


def to_text(line: str) -> str:
    return _MENTION.sub(lambda m: f"<@{user_id(m.group(1))}|{m.group(1)}>", line)


def origin(user: str, channel: str, *, direct: bool = False) -> Origin:
    return Origin(
        platform=PLATFORM,
        workspace=WORKSPACE,
        channel=f"dm:{user_id(user)}" if direct else channel,
        channel_name=None if direct else channel,
        user=user_id(user),
        user_name=user,
        is_direct=direct,
    )


def to_command(line: str, where: Origin) -> CommandInvoked:
    return CommandInvoked(origin=where, text=to_text(line))


def to_home(where: Origin) -> HomeOpened:
    return HomeOpened(origin=where)
