"""A conversation's reference is serialised once and found again by its content: the same
JSON as msrest's, and a changed reference (a renamed user, another service URL) is new."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from botbuilder.schema import Activity, ConversationReference

from adapters.teams import translate
from adapters.teams.platform import reference_of, serialized

PERSONAL_MESSAGE = Path(__file__).parent / "payloads" / "teams" / "personal_message.json"


def personal_message() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(PERSONAL_MESSAGE.read_text())
    return loaded


def reference_for(body: dict[str, Any]) -> ConversationReference:
    activity = Activity().deserialize(body)
    return reference_of(activity, translate.tenant_of(activity))


def test_an_equal_reference_is_serialised_once_as_msrest_does() -> None:
    body = personal_message()
    first = serialized(reference_for(body))
    assert first == reference_for(body).serialize()
    assert serialized(reference_for(copy.deepcopy(body))) is first


def test_a_changed_reference_is_serialised_anew() -> None:
    body = personal_message()
    before = serialized(reference_for(body))
    renamed = copy.deepcopy(body)
    renamed["from"]["name"] = "Alice Renamed"
    moved = copy.deepcopy(body)
    moved["serviceUrl"] = "https://smba.example/emea/"
    for changed in (renamed, moved):
        after = serialized(reference_for(changed))
        assert after == reference_for(changed).serialize() != before
    assert json.dumps(before) == json.dumps(reference_for(body).serialize())
