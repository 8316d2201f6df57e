"""Neutral inbound events: what adapters make of Slack, Teams and console input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Origin:
    """Who acted and where: platform, workspace (team/tenant), conversation and user."""

    platform: str
    workspace: str
    channel: str
    user: str
    user_name: str = ""
    channel_name: str | None = None
    is_direct: bool = False
    thread: str | None = None
    enterprise: str | None = None

    @property
    def display_name(self) -> str:
        return self.user_name or self.user


@dataclass(frozen=True, kw_only=True)
class MessageRef:
    """A message copbot posted, as the platform knows it, so it can be edited or deleted:
    Slack's channel and `ts`, Teams' conversation and activity id, the console's number."""

    platform: str
    workspace: str
    channel: str
    message_id: str
    thread: str | None = None
    enterprise: str | None = None


@dataclass(frozen=True, kw_only=True)
class Event:
    """Anything that reaches the core; `event_id` (if any) lets the core drop redeliveries."""

    origin: Origin
    event_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class CommandInvoked(Event):
    """A command line: `/cop <text>`, `@copbot <text>` or a console line."""

    text: str


@dataclass(frozen=True, kw_only=True)
class MessagePosted(Event):
    """A plain message the bot can see (a direct message, for instance)."""

    text: str
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReactionChanged(Event):
    """A reaction on a message. `reaction` is neutral (`like`, `heart`, `laugh`,
    `surprised`, `sad`, `angry`; any other emoji by its name); `message` is the one reacted to.
    `at` is when the platform says it happened (Slack's `event_ts`, Teams' `timestamp`), so
    the core can put reactions that arrive out of order back in order."""

    message: MessageRef
    reaction: str
    at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ReactionAdded(ReactionChanged):
    """A reaction added."""


@dataclass(frozen=True, kw_only=True)
class ReactionRemoved(ReactionChanged):
    """A reaction taken back."""


@dataclass(frozen=True, kw_only=True)
class MemberJoined(Event):
    """Someone joined the conversation in `origin` (origin.user is the newcomer)."""

    invited_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class ButtonPressed(Event):
    """A button from one of the bot's replies; `value` is what the reply put on it."""

    action: str
    value: str = ""
    message: MessageRef | None = None  # the message the button was on


@dataclass(frozen=True, kw_only=True)
class FormSubmitted(Event):
    """A submitted form (a Slack modal, a Teams card): field name to value."""

    form: str
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class MessageSaved(Event):
    """Someone asked to save a message (and its thread) to the library: a Slack message
    shortcut, a Teams message action. `thread` holds the replies' text, oldest first;
    `message` is the saved message, when the platform names it."""

    text: str
    thread: tuple[str, ...] = ()
    message: MessageRef | None = None


@dataclass(frozen=True, kw_only=True)
class HomeOpened(Event):
    """The user opened the bot's home (Slack App Home; a personal chat elsewhere)."""


@dataclass(frozen=True, kw_only=True)
class UserRef:
    """A user named in a command, in the neutral mention form `<@ID|name>`."""

    id: str
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.id

    def mention(self) -> str:
        return f"<@{self.id}|{self.name}>" if self.name else f"<@{self.id}>"


def describe(event: Event) -> dict[str, Any]:
    """A small loggable summary of an event (no message text)."""
    return {
        "type": type(event).__name__,
        "platform": event.origin.platform,
        "workspace": event.origin.workspace,
        "channel": event.origin.channel,
        "user": event.origin.user,
    }
