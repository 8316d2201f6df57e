"""Bot Framework activities to copbot's neutral events: pure converters, no I/O."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from adapters.teams.package import SAVE_COMMAND
from bot.events import (
    ButtonPressed,
    CommandInvoked,
    Event,
    FormSubmitted,
    MemberJoined,
    MessagePosted,
    MessageRef,
    MessageSaved,
    Origin,
    ReactionAdded,
    ReactionRemoved,
)

PLATFORM = "teams"
THREAD_MARKER = ";messageid="
PERSONAL = "personal"
# copbot keeps 200 characters of a person's or channel's name; Entra ID allows 256 for a name.
NAME_LIMIT = 200
_AT = re.compile(r"<at>(.*?)</at>", re.DOTALL)
_SPACES = re.compile(r"[ \t\u00a0]+")


def tenant_of(activity: Activity) -> str:
    """The tenant id. botbuilder drops `conversation.tenantId`, so read channelData first."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, Mapping) else {}
    tenant = channel_data.get("tenant")
    if isinstance(tenant, Mapping) and tenant.get("id"):
        return str(tenant["id"])
    conversation = activity.conversation
    extra = getattr(conversation, "additional_properties", None) or {}
    return str(getattr(conversation, "tenant_id", None) or extra.get("tenantId") or "")


def conversation_type(activity: Activity) -> str:
    return str(getattr(activity.conversation, "conversation_type", None) or PERSONAL)


def split_thread(conversation_id: str) -> tuple[str, str | None]:
    """A channel thread's id is `<channel>;messageid=<root>`; a community binds to the channel."""
    channel, marker, root = conversation_id.partition(THREAD_MARKER)
    return channel, (root if marker else None)


def channel_key(activity: Activity) -> str:
    """The conversation a community lives in: the channel (not the thread), chat or 1:1 chat."""
    return split_thread(str(activity.conversation.id))[0]


def channel_name(activity: Activity) -> str | None:
    channel_data = activity.channel_data if isinstance(activity.channel_data, Mapping) else {}
    channel = channel_data.get("channel")
    if isinstance(channel, Mapping) and channel.get("name"):
        return str(channel["name"])
    name = getattr(activity.conversation, "name", None)
    if name:
        return str(name)
    team = channel_data.get("team")
    # Teams leaves the General channel unnamed; its id is the team's id.
    if isinstance(team, Mapping) and team.get("id") == channel_key(activity):
        return "General"
    return None


def origin(activity: Activity, user: ChannelAccount | None = None) -> Origin:
    """Who and where. Users are known by their Bot Framework id (`29:…`), not `aadObjectId`:
    it is the id mentions, membersAdded and the Connector's create-conversation use, and it is
    present on every activity (aadObjectId is missing for guests and in some events)."""
    who = user or activity.from_property
    _, thread = split_thread(str(activity.conversation.id))
    place = channel_name(activity)
    return Origin(
        platform=PLATFORM,
        workspace=tenant_of(activity),
        channel=channel_key(activity),
        user=str(who.id),
        user_name=str(getattr(who, "name", None) or "")[:NAME_LIMIT],
        channel_name=place[:NAME_LIMIT] if place else None,
        is_direct=conversation_type(activity) == PERSONAL,
        thread=thread,
    )


def event_id(activity: Activity) -> str | None:
    """A redelivery key: activity ids are only unique within their conversation."""
    if not activity.id:
        return None
    raw = f"{tenant_of(activity)}|{activity.conversation.id}|{activity.id}"
    return "teams:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def mentions(activity: Activity) -> list[tuple[str, str, str]]:
    """(text, id, name) of every mention entity, e.g. ("<at>Bob Lee</at>", "29:…", "Bob Lee")."""
    found = []
    for entity in activity.entities or []:
        if getattr(entity, "type", None) != "mention":
            continue
        extra: Mapping[str, Any] = getattr(entity, "additional_properties", None) or {}
        mentioned = extra.get("mentioned") or {}
        if isinstance(mentioned, Mapping) and mentioned.get("id"):
            text = str(extra.get("text") or f"<at>{mentioned.get('name', '')}</at>")
            found.append((text, str(mentioned["id"]), str(mentioned.get("name") or "")))
    return found


def command_text(activity: Activity) -> str:
    """The message text with the bot's own mention removed and other mentions in the core's
    neutral form `<@ID|Name>`; Teams' non-breaking spaces become plain ones."""
    text = str(activity.text or "")
    bot_id = getattr(activity.recipient, "id", None)
    for mention_text, user_id, name in mentions(activity):
        if user_id == bot_id:
            text = text.replace(mention_text, " ", 1)
        else:
            text = text.replace(mention_text, f"<@{user_id}|{name.replace('>', '')}>", 1)
    # A mention without an entity (a pasted name) is left as the plain name.
    text = _AT.sub(lambda m: m.group(1), text)
    return _SPACES.sub(" ", text).strip()


def _text_value(value: Any) -> str:
    return "" if value is None else str(value)


def _submitted(activity: Activity, value: Any = None) -> Event | None:
    """An Adaptive Card `Action.Submit` from one of copbot's cards: button data
    `{action, value}` or a form `{form, …}`, names and values as copbot wrote them (strings).
    Anything else was not made by copbot and is ignored, never read as a command.
    `value` is the submitted data when it is not the activity's value (a task module's)."""
    value = activity.value if value is None else value
    if not isinstance(value, Mapping):
        return None
    form, action, data = value.get("form"), value.get("action"), value.get("value")
    where = origin(activity)
    acts_in = value.get("channel")
    if isinstance(acts_in, str) and acts_in:
        # A button or form from a menu in a personal chat acts in a community's channel.
        where = replace(where, channel=acts_in, channel_name=None, thread=None, is_direct=False)
    if form and isinstance(form, str):
        fields = {
            str(k): _text_value(v)
            for k, v in value.items()
            if k not in ("form", "msteams", "channel") and not isinstance(v, Mapping | list)
        }
        return FormSubmitted(origin=where, event_id=event_id(activity), form=form, values=fields)
    if action and isinstance(action, str) and (data is None or isinstance(data, str)):
        return ButtonPressed(
            origin=where,
            event_id=event_id(activity),
            action=action,
            value=_text_value(data),
            message=message_ref(origin(activity), activity.reply_to_id),
        )
    return None


def to_message_event(activity: Activity) -> Event | None:
    """A message: a card submission, a command in a channel or chat, or a line in a 1:1 chat."""
    if activity.value is not None and not activity.text:
        return _submitted(activity)
    text = command_text(activity)
    if not text:
        return None
    where = origin(activity)
    if where.is_direct:
        return MessagePosted(
            origin=where, event_id=event_id(activity), text=text, message_id=activity.id
        )
    return CommandInvoked(origin=where, event_id=event_id(activity), text=text)


def sent_at(activity: Activity) -> datetime | None:
    """When Teams says the activity happened (`timestamp`), timezone-aware."""
    when = activity.timestamp
    if not isinstance(when, datetime):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def to_reaction_events(activity: Activity) -> list[Event]:
    """Reactions on one of the bot's messages (`like`, `heart`, `laugh`, …)."""
    where = origin(activity)
    message = message_ref(where, activity.reply_to_id)
    if message is None:
        return []
    at = sent_at(activity)
    events: list[Event] = []
    for index, reaction in enumerate(activity.reactions_added or []):
        events.append(
            ReactionAdded(
                origin=where,
                event_id=_nth(activity, "added", index),
                message=message,
                reaction=str(reaction.type),
                at=at,
            )
        )
    for index, reaction in enumerate(activity.reactions_removed or []):
        events.append(
            ReactionRemoved(
                origin=where,
                event_id=_nth(activity, "removed", index),
                message=message,
                reaction=str(reaction.type),
                at=at,
            )
        )
    return events


def message_ref(where: Origin, activity_id: str | None) -> MessageRef | None:
    """The bot's message an activity refers to (`replyToId`), in the conversation it came from."""
    if not activity_id:
        return None
    return MessageRef(
        platform=PLATFORM,
        workspace=where.workspace,
        channel=where.channel,
        message_id=str(activity_id),
        thread=where.thread,
    )


def _nth(activity: Activity, what: str, index: int) -> str | None:
    base = event_id(activity)
    return f"{base}:{what}:{index}" if base else None


def to_member_events(activity: Activity) -> list[Event]:
    """One `MemberJoined` per person added (the bot itself is left out)."""
    bot_id = getattr(activity.recipient, "id", None)
    inviter = getattr(activity.from_property, "id", None)
    events: list[Event] = []
    for index, member in enumerate(activity.members_added or []):
        if not member.id or member.id == bot_id:
            continue
        events.append(
            MemberJoined(
                origin=origin(activity, member),
                event_id=_nth(activity, "joined", index),
                invited_by=str(inviter) if inviter and inviter != member.id else None,
            )
        )
    return events


def bot_was_added(activity: Activity) -> bool:
    bot_id = getattr(activity.recipient, "id", None)
    return any(m.id == bot_id for m in activity.members_added or [])


# The message action "Save to library" (app package): its task module, then its submission.
FETCH_TASK = "composeExtension/fetchTask"
SUBMIT_ACTION = "composeExtension/submitAction"
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)


def message_payload_text(payload: Mapping[str, Any]) -> str:
    """The text of a `messagePayload`: its HTML body as plain lines."""
    body = payload.get("body")
    if not isinstance(body, Mapping):
        return ""
    content = str(body.get("content") or "")
    if str(body.get("contentType", "")).lower() == "html":
        content = html.unescape(_TAG.sub("", _BREAK.sub("\n", content)))
    return content.strip()


def to_save_event(activity: Activity) -> Event | None:
    """A "Save to library" message action: fetchTask drafts from the message, submitAction
    is the draft form submitted. None for any other invoke."""
    value = activity.value if isinstance(activity.value, Mapping) else {}
    if value.get("commandId") != SAVE_COMMAND:
        return None
    where = origin(activity)
    if activity.name == FETCH_TASK:
        payload = value.get("messagePayload")
        text = message_payload_text(payload) if isinstance(payload, Mapping) else ""
        message_id = payload.get("id") if isinstance(payload, Mapping) else None
        return MessageSaved(
            origin=where,
            text=text,
            message=message_ref(where, str(message_id)) if message_id else None,
        )
    if activity.name == SUBMIT_ACTION:
        return _submitted(activity, value.get("data"))
    return None


def to_events(activity: Activity) -> list[Event]:
    """Every neutral event one activity carries (none for types copbot does not use)."""
    match activity.type:
        case ActivityTypes.message:
            event = to_message_event(activity)
            return [event] if event else []
        case ActivityTypes.message_reaction:
            return to_reaction_events(activity)
        case ActivityTypes.conversation_update:
            return to_member_events(activity)
    return []
