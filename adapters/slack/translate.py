"""Slack payloads to neutral events: slash commands, Events API callbacks and interactivity."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.events import (
    ButtonPressed,
    CommandInvoked,
    Event,
    FormSubmitted,
    HomeOpened,
    MemberJoined,
    MessagePosted,
    MessageRef,
    MessageSaved,
    Origin,
    ReactionAdded,
    ReactionRemoved,
)

PLATFORM = "slack"
# The message shortcut "Save to library" (both manifests).
SAVE_SHORTCUT = "save_to_library"
# Home-tab buttons name the community channel they act in through their block id.
CHANNEL_BLOCK_PREFIX = "in:"
# Slack's slash-command `channel_name` for conversations that have no real name.
_NAMELESS_CHANNELS = frozenset({"directmessage", "privategroup"})
_MARKUP = re.compile(r"<([^<>]*)>")
# Slack's names for the reactions the core knows by a neutral name (bot/vocabulary.py).
_NEUTRAL_REACTIONS = {
    "+1": "like",
    "thumbsup": "like",
    "heart": "heart",
    "laughing": "laugh",
    "joy": "laugh",
    "open_mouth": "surprised",
    "astonished": "surprised",
    "cry": "sad",
    "disappointed": "sad",
    "angry": "angry",
    "rage": "angry",
}

Payload = Mapping[str, Any]


def neutral_reaction(name: str) -> str:
    """Slack's emoji name as the core's reaction name: `+1`, `thumbsup` and
    `+1::skin-tone-3` are `like`; emoji with no neutral name keep their own."""
    base = name.split("::", 1)[0]
    return _NEUTRAL_REACTIONS.get(base, base)


def slack_time(ts: Any) -> datetime | None:
    """A Slack timestamp (`"1700000400.000100"`, seconds and microseconds) as an aware UTC
    time, exactly (no float rounding); None when it is not one."""
    seconds, _, micros = str(ts or "").partition(".")
    if not seconds.isdigit() or not (micros.isdigit() or micros == "") or len(micros) > 6:
        return None
    micro = int(micros.ljust(6, "0")) if micros else 0
    try:
        return datetime.fromtimestamp(int(seconds), UTC) + timedelta(microseconds=micro)
    except (OverflowError, OSError, ValueError):
        return None


def _markup_to_text(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return match.group(0)  # the core's neutral mention form is Slack's own
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!subteam^"):
        return label or "@group"
    if target.startswith("!"):
        return "@" + (label or target[1:].split("^")[0])
    return target  # a link: keep the URL, never a label that could disguise it


def to_text(text: str) -> str:
    """Slack message text as the core reads it: mentions kept, other markup made plain,
    and Slack's `&amp;`/`&lt;`/`&gt;` turned back into what the user typed."""
    plain = _MARKUP.sub(_markup_to_text, text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def is_direct_channel(channel: str, channel_type: str | None = None) -> bool:
    """True for a direct-message conversation with the bot."""
    return channel_type == "im" or channel.startswith("D")


def _enterprise_id(payload: Payload) -> str | None:
    enterprise = payload.get("enterprise")
    if isinstance(enterprise, Mapping):
        return enterprise.get("id") or None
    return payload.get("enterprise_id") or payload.get("context_enterprise_id") or None


def _team_id(payload: Payload) -> str:
    team = payload.get("team")
    if isinstance(team, Mapping) and team.get("id"):
        return str(team["id"])
    user = payload.get("user")
    if isinstance(user, Mapping) and user.get("team_id"):
        return str(user["team_id"])
    return str(payload.get("team_id") or payload.get("context_team_id") or "")


def to_command_event(command: Payload) -> CommandInvoked:
    """A `/cop <text>` slash command."""
    channel = str(command.get("channel_id", ""))
    channel_name = command.get("channel_name") or None
    direct = is_direct_channel(channel) or channel_name == "directmessage"
    return CommandInvoked(
        origin=Origin(
            platform=PLATFORM,
            workspace=str(command.get("team_id", "")),
            enterprise=command.get("enterprise_id") or None,
            channel=channel,
            channel_name=None if channel_name in _NAMELESS_CHANNELS else channel_name,
            user=str(command.get("user_id", "")),
            user_name=str(command.get("user_name", "")),
            is_direct=direct,
        ),
        text=to_text(str(command.get("text", ""))),
    )


def to_event(body: Payload) -> Event | None:
    """An Events API `event_callback`; None for events copbot does not act on."""
    event = body.get("event")
    if body.get("type") != "event_callback" or not isinstance(event, Mapping):
        return None
    workspace = _team_id(body)
    enterprise = _enterprise_id(body)
    event_id = body.get("event_id") or None

    def origin(channel: str, user: str, channel_type: str | None = None) -> Origin:
        return Origin(
            platform=PLATFORM,
            workspace=workspace,
            enterprise=enterprise,
            channel=channel,
            user=user,
            is_direct=is_direct_channel(channel, channel_type),
        )

    user = str(event.get("user", ""))
    match event.get("type"):
        case "member_joined_channel":
            return MemberJoined(
                origin=origin(str(event.get("channel", "")), user),
                event_id=event_id,
                invited_by=event.get("inviter") or None,
            )
        case "reaction_added" | "reaction_removed" as kind:
            item = event.get("item") or {}
            if item.get("type") != "message":
                return None
            made = ReactionAdded if kind == "reaction_added" else ReactionRemoved
            channel = str(item.get("channel", ""))
            return made(
                origin=origin(channel, user),
                event_id=event_id,
                message=MessageRef(
                    platform=PLATFORM,
                    workspace=workspace,
                    enterprise=enterprise,
                    channel=channel,
                    message_id=str(item.get("ts", "")),
                ),
                reaction=neutral_reaction(str(event.get("reaction", ""))),
                at=slack_time(event.get("event_ts")),
            )
        case "app_home_opened" if event.get("tab", "home") == "home":
            return HomeOpened(
                origin=origin(str(event.get("channel", "")), user, "im"), event_id=event_id
            )
        case "message":
            channel = str(event.get("channel", ""))
            channel_type = event.get("channel_type")
            ignored = event.get("subtype") or event.get("bot_id") or not user
            if ignored or not is_direct_channel(channel, channel_type):
                return None
            return MessagePosted(
                origin=origin(channel, user, channel_type),
                event_id=event_id,
                text=to_text(str(event.get("text", ""))),
                message_id=event.get("ts"),
            )
    return None


def _user(payload: Payload) -> tuple[str, str]:
    user = payload.get("user") or {}
    return str(user.get("id", "")), str(user.get("username") or user.get("name") or "")


def to_interaction_event(payload: Payload) -> Event | None:
    """A `block_actions` button press or a `view_submission`; None for anything else, and for
    one that copbot did not make (no channel to act in)."""
    user_id, user_name = _user(payload)
    workspace, enterprise = _team_id(payload), _enterprise_id(payload)
    match payload.get("type"):
        case "block_actions":
            actions = payload.get("actions") or []
            if not actions:
                return None
            action = actions[0]
            container = payload.get("container") or {}
            channel_info = payload.get("channel") or {}
            channel = str(channel_info.get("id") or container.get("channel_id") or "")
            channel_name = channel_info.get("name") or None
            block_id = str(action.get("block_id", ""))
            if block_id.startswith(CHANNEL_BLOCK_PREFIX):
                channel, channel_name = block_id.removeprefix(CHANNEL_BLOCK_PREFIX), None
            elif not channel:
                channel = str((payload.get("view") or {}).get("id", ""))
            if not channel:
                return None  # not a button copbot made: its buttons always have a place
            message_ts = container.get("message_ts")
            return ButtonPressed(
                origin=Origin(
                    platform=PLATFORM,
                    workspace=workspace,
                    enterprise=enterprise,
                    channel=channel,
                    channel_name=None if channel_name in _NAMELESS_CHANNELS else channel_name,
                    user=user_id,
                    user_name=user_name,
                    is_direct=is_direct_channel(channel),
                ),
                action=str(action.get("action_id", "")).split(":", 1)[0],
                value=str(action.get("value") or ""),
                message=MessageRef(
                    platform=PLATFORM,
                    workspace=workspace,
                    enterprise=enterprise,
                    channel=channel,
                    message_id=str(message_ts),
                    thread=container.get("thread_ts") or None,
                )
                if message_ts
                else None,
            )
        case "view_submission":
            view = payload.get("view") or {}
            metadata = _metadata(view.get("private_metadata"))
            channel = str(metadata.get("channel_id", ""))
            if not channel:
                return None  # not a form copbot opened: its forms carry their channel
            return FormSubmitted(
                origin=Origin(
                    platform=PLATFORM,
                    workspace=workspace,
                    enterprise=enterprise,
                    channel=channel,
                    channel_name=metadata.get("channel_name") or None,
                    user=user_id,
                    user_name=user_name,
                    is_direct=is_direct_channel(channel),
                ),
                form=str(view.get("callback_id", "")),
                values={**_carried(metadata), **form_values(view.get("state") or {})},
            )
        case "message_action" if payload.get("callback_id") == SAVE_SHORTCUT:
            channel = str((payload.get("channel") or {}).get("id") or "")
            message = payload.get("message") or {}
            ts = str(message.get("ts") or "")
            if not channel or not ts:
                return None
            return MessageSaved(
                origin=Origin(
                    platform=PLATFORM,
                    workspace=workspace,
                    enterprise=enterprise,
                    channel=channel,
                    channel_name=(payload.get("channel") or {}).get("name") or None,
                    user=user_id,
                    user_name=user_name,
                    is_direct=is_direct_channel(channel),
                ),
                text=str(message.get("text") or ""),
                message=MessageRef(
                    platform=PLATFORM,
                    workspace=workspace,
                    enterprise=enterprise,
                    channel=channel,
                    message_id=ts,
                    thread=str(message.get("thread_ts") or "") or None,
                ),
            )
    return None


def _carried(metadata: Mapping[str, Any]) -> dict[str, str]:
    carried = metadata.get("values")
    return {str(k): str(v) for k, v in carried.items()} if isinstance(carried, dict) else {}


def _metadata(raw: Any) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        loaded = json.loads(raw)
    except (TypeError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def form_values(state: Payload) -> dict[str, str]:
    """A modal's `state.values` as field name (its block id) to the value entered."""
    values: dict[str, str] = {}
    for block_id, elements in (state.get("values") or {}).items():
        for element in elements.values():
            if element.get("selected_option"):
                values[block_id] = str(element["selected_option"].get("value", ""))
            elif element.get("value") is not None:
                values[block_id] = str(element["value"])
    return values
