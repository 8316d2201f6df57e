"""The JSON types Slack gives the payload fields that Bolt and copbot read.

Bolt reads ids out of a body before any listener runs (`body["authorizations"][0]`,
`team.get("id")`, `body["actions"][0]["action_id"]`) and copbot's converters read a few more;
a field of another type raises deep inside them (a 500 and a traceback). Slack never sends such
a body, so a signed one that does is refused as unreadable (400) before Bolt sees it. Only the
fields read are checked; `None` is allowed everywhere (Slack sends null for absent values) and
unknown fields are ignored, so real payloads with more in them still pass."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Obj:
    """An object whose listed fields have these shapes; those in `never_null` may be absent but
    not null (Bolt reads them with `body.get("event", {}).get(...)`)."""

    fields: Mapping[str, Shape] = field(default_factory=dict)
    never_null: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ListOf:
    item: Shape


@dataclass(frozen=True)
class MapOf:
    """An object of any keys, every value of one shape (a modal's `state.values`)."""

    value: Shape


@dataclass(frozen=True)
class OneOf:
    shapes: tuple[Shape, ...]


Shape = type | Obj | ListOf | MapOf | OneOf

TEXT = str
ACCOUNT = Obj({name: TEXT for name in ("id", "team_id", "name", "username", "enterprise_id")})
ID_OR_ACCOUNT = OneOf((TEXT, ACCOUNT))
MESSAGE = Obj(
    {
        "user": ID_OR_ACCOUNT,
        "team": ID_OR_ACCOUNT,
        "ts": TEXT,
        "thread_ts": TEXT,
        "bot_id": TEXT,
        "text": TEXT,
    }
)
VIEW = Obj(
    {
        **{
            name: TEXT
            for name in (
                *("id", "type", "callback_id", "private_metadata"),
                *("team_id", "app_installed_team_id"),
            )
        },
        "state": Obj(
            {"values": MapOf(MapOf(Obj({"value": TEXT, "selected_option": Obj({"value": TEXT})})))}
        ),
    }
)
_IDS = ("team_id", "user_id", "channel_id", "enterprise_id", "context_team_id")
_COMMON: dict[str, Shape] = {
    **{name: TEXT for name in (*_IDS, "context_enterprise_id", "type", "thread_ts")},
    "team": ID_OR_ACCOUNT,
    "user": ID_OR_ACCOUNT,
    "channel": ID_OR_ACCOUNT,
    "enterprise": ID_OR_ACCOUNT,
    "message": MESSAGE,
    "previous_message": MESSAGE,
    "item": Obj({"type": TEXT, "channel": TEXT, "ts": TEXT}),
    "assistant_thread": Obj({"channel_id": TEXT, "thread_ts": TEXT}),
    "function_data": Obj({"execution_id": TEXT}),
    "authorizations": ListOf(Obj({name: TEXT for name in _IDS})),
}
EVENT = Obj(
    {
        **_COMMON,
        **{
            name: TEXT
            for name in (
                *("subtype", "channel_type", "text", "ts", "bot_id", "tab", "inviter"),
                *("reaction", "user_team", "function_execution_id"),
            )
        },
        "view": VIEW,
        "function": Obj(),
    },
    never_null=frozenset({"view", "function"}),
)
BODY = Obj(
    {
        **_COMMON,
        **{
            name: TEXT
            for name in (
                *("token", "api_app_id", "event_id", "trigger_id", "response_url"),
                *("callback_id", "command", "challenge", "function_execution_id"),
            )
        },
        "event": EVENT,
        "view": VIEW,
        "actions": ListOf(Obj({name: TEXT for name in ("action_id", "block_id", "value")})),
        "container": Obj({"channel_id": TEXT, "message_ts": TEXT, "type": TEXT}),
        "response_urls": ListOf(Obj({"response_url": TEXT})),
    },
    never_null=frozenset({"event", "view", "actions"}),
)
# Interactivity payloads always name the person as an object.
INTERACTION = Obj({**BODY.fields, "user": ACCOUNT}, BODY.never_null)
INTERACTION_TYPES = frozenset(
    {"block_actions", "view_submission", "view_closed", "message_action", "shortcut"}
    | {"block_suggestion", "interactive_message", "dialog_submission"}
)


def problem(body: Mapping[str, Any]) -> str | None:
    """Where `body` departs from Slack's shapes (a short path for the log), or None."""
    kind = body.get("type")
    shape = INTERACTION if isinstance(kind, str) and kind in INTERACTION_TYPES else BODY
    return _check(shape, body, "body")


def _check(shape: Shape, value: Any, path: str) -> str | None:
    if value is None:
        return None
    match shape:
        case type():
            return None if isinstance(value, shape) else f"{path} is not {shape.__name__}"
        case OneOf(shapes):
            if any(_check(option, value, path) is None for option in shapes):
                return None
            return f"{path} has an unexpected type"
        case ListOf(item):
            if not isinstance(value, list):
                return f"{path} is not a list"
            for index, element in enumerate(value):
                found = _check(item, element, f"{path}[{index}]")
                if found is not None:
                    return found
            return None
        case MapOf(item):
            if not isinstance(value, Mapping):
                return f"{path} is not an object"
            for key, element in value.items():
                found = _check(item, element, f"{path}.{key}"[:80])
                if found is not None:
                    return found
            return None
        case Obj(fields, never_null):
            if not isinstance(value, Mapping):
                return f"{path} is not an object"
            for key, field_shape in fields.items():
                if key in never_null and key in value and value[key] is None:
                    return f"{path}.{key} is null"
                found = _check(field_shape, value.get(key), f"{path}.{key}")
                if found is not None:
                    return found
            return None
    return None
