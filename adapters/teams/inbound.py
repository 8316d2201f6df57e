"""Inbound activities read strictly: JSON to a botbuilder `Activity`, or one line saying why not.

msrest, which botbuilder deserialises with, is lenient where copbot cannot be: it turns any JSON
value into a string for a string field (`"text": {"a": 1}` becomes the command `{'a': 1}`), and
keeps `null` members and accounts without ids that the turn then trips over. Teams never sends
such activities, so they are refused (400) before they reach botbuilder or the core."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import botbuilder.schema
from botbuilder.schema import Activity
from msrest.exceptions import DeserializationError
from msrest.serialization import Model

from adapters.inbound_text import text_problem

_MODELS: dict[str, type[Model]] = {
    name: value
    for name, value in vars(botbuilder.schema).items()
    if isinstance(value, type) and issubclass(value, Model)
}
# Accounts whose id the turn reads; Bot Framework requires one on each.
_ACCOUNTS_WITH_ID = ("from", "conversation", "recipient")
_MEMBER_LISTS = ("membersAdded", "membersRemoved")


class MalformedActivity(ValueError):
    """The body is JSON but not an activity copbot can read; the message says why, briefly."""


def read_activity(body: Any) -> Activity:
    """The activity in a parsed JSON body; raises `MalformedActivity` when it is not one."""
    if not isinstance(body, Mapping):
        raise MalformedActivity("the body is not an object")
    if not isinstance(body.get("type"), str) or not body["type"]:
        raise MalformedActivity("no activity type")
    unusable = text_problem(body)
    if unusable is not None:
        raise MalformedActivity(unusable)
    problem = _shape_problem(Activity, body, "")
    if problem is not None:
        raise MalformedActivity(problem)
    for key in _ACCOUNTS_WITH_ID:
        account = body.get(key)
        if not isinstance(account, Mapping) or not account.get("id"):
            raise MalformedActivity(f"{key}.id is missing")
    for key in _MEMBER_LISTS:
        for member in body.get(key) or []:
            if not member.get("id"):
                raise MalformedActivity(f"{key}[].id is missing")
    channel_data = body.get("channelData")
    if channel_data is not None and not isinstance(channel_data, Mapping):
        raise MalformedActivity("channelData is not an object")
    service_url = urlsplit(body.get("serviceUrl") or "")
    if service_url.scheme not in ("http", "https") or not service_url.netloc:
        raise MalformedActivity("serviceUrl is not an http(s) URL")
    try:
        activity: Activity = Activity().deserialize(dict(body))
    except DeserializationError:
        # msrest's message quotes the whole value; the field is enough for a log line.
        raise MalformedActivity("a field has a value of the wrong type") from None
    return activity


def _shape_problem(model: type[Model], raw: Mapping[str, Any], path: str) -> str | None:
    """The first field of `raw` whose JSON type is not what `model` declares, if any."""
    for attribute in model._attribute_map.values():
        key, kind = attribute["key"], attribute["type"]
        value = raw.get(key)
        if value is None:
            continue
        where = f"{path}{key}"
        if kind == "str" and not isinstance(value, str):
            return f"{where} is not a string"
        if kind == "bool" and not isinstance(value, bool):
            return f"{where} is not true or false"
        if kind in _MODELS:
            if not isinstance(value, Mapping):
                return f"{where} is not an object"
            problem = _shape_problem(_MODELS[kind], value, where + ".")
            if problem is not None:
                return problem
        if kind.startswith("[") and kind.endswith("]"):
            if not isinstance(value, list):
                return f"{where} is not a list"
            item_kind = kind[1:-1]
            for item in value:
                if item_kind == "str" and not isinstance(item, str):
                    return f"{where}[] holds a non-string"
                if item_kind in _MODELS:
                    if not isinstance(item, Mapping):
                        return f"{where}[] holds a non-object"
                    problem = _shape_problem(_MODELS[item_kind], item, where + "[].")
                    if problem is not None:
                        return problem
    return None
