"""Neutral outbound replies: which message, with what data, to where, seen by whom."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.events import MessageRef, Origin

__all__ = ["Button", "Destination", "Form", "MessageRef", "Reply", "Visibility"]


class Visibility(StrEnum):
    """Who sees a reply."""

    USER = "user"  # only the person who asked (Slack ephemeral)
    CHANNEL = "channel"  # everyone in the conversation
    DIRECT = "direct"  # the user's direct messages with the bot


@dataclass(frozen=True, kw_only=True)
class Button:
    """A button under a reply; pressing it comes back as `ButtonPressed(action, value)`."""

    label: str
    action: str
    value: str = ""
    style: str | None = None  # "primary" or "danger"
    # The conversation the press acts in, when not the one the button is in: a steward's
    # menu in a direct message acts in each community's channel.
    channel: str | None = None
    # The typed command that does the same, for a surface without buttons (the console).
    typed: str = ""


@dataclass(frozen=True, kw_only=True)
class Destination:
    """Where a post goes when it is not simply an answer: a channel or a user's DMs.

    `enterprise` is the Slack Enterprise Grid org, so a post finds its installation."""

    platform: str
    workspace: str
    channel: str | None = None
    user: str | None = None
    thread: str | None = None
    enterprise: str | None = None

    @classmethod
    def channel_of(cls, origin: Origin) -> Destination:
        """The conversation (and thread) an event came from."""
        return cls(
            platform=origin.platform,
            workspace=origin.workspace,
            enterprise=origin.enterprise,
            channel=origin.channel,
            thread=origin.thread,
        )

    @classmethod
    def direct(cls, origin: Origin, user: str | None = None) -> Destination:
        """The direct messages of `user` (default: whoever acted) in the origin's workspace."""
        return cls(
            platform=origin.platform,
            workspace=origin.workspace,
            enterprise=origin.enterprise,
            user=user or origin.user,
        )


@dataclass(frozen=True, kw_only=True)
class Form:
    """A form to open (a Slack modal): its name and the fields' current values."""

    name: str
    values: Mapping[str, str] = field(default_factory=dict)
    channel: str | None = None  # the conversation it is for, when not where it was opened


@dataclass(frozen=True, kw_only=True)
class Reply:
    """One message the core wants shown. `kind` names the template in `messages/`."""

    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)
    visibility: Visibility = Visibility.USER
    buttons: tuple[Button, ...] = ()
    to: Destination | None = None  # None: the conversation the event came from
    form: Form | None = None  # set when the reply is "open this form"
    # An idempotency key the platform can find the post by (a delivery's id), where it can.
    key: str | None = None
    reactions: tuple[str, ...] = ()  # reactions the bot adds to its own post, by name

    def addressed(self, to: Destination) -> Reply:
        return replace(self, to=to)
