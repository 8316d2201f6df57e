"""A button or form can act in another conversation than the one it is shown in (a steward's
menu in a direct message acts in each community's channel), on every surface."""

from __future__ import annotations

from typing import Any

from adapters.slack.render import SlackRenderer
from adapters.slack.translate import to_interaction_event
from adapters.teams.render import CardRenderer
from adapters.teams.translate import to_message_event
from bot.events import ButtonPressed, FormSubmitted
from bot.replies import Button, Form, Reply
from tests.fakes.slack_workspace import load_payload

MENU = Reply(
    kind="oops",
    data={"error_id": "x"},
    buttons=(
        Button(label="Here", action="command", value="help"),
        Button(label="Members", action="command", value="members", channel="C0002"),
        Button(label="Rituals", action="command", value="ritual list", channel="C0002"),
    ),
)


def test_slack_gives_each_channel_its_actions_block_and_the_press_acts_there() -> None:
    blocks = SlackRenderer().blocks(MENU)
    here, there = [b for b in blocks if b["type"] == "actions"]
    assert here["block_id"] == "copbot_actions" and there["block_id"] == "in:C0002"
    assert [e["value"] for e in there["elements"]] == ["members", "ritual list"]
    press = load_payload("block_actions")
    press["channel"] = {"id": "DU0ALICE", "name": "directmessage"}
    press["container"]["channel_id"] = "DU0ALICE"
    press["actions"] = [{**there["elements"][0], "block_id": there["block_id"]}]
    event = to_interaction_event(press)
    assert isinstance(event, ButtonPressed) and event.value == "members"
    assert event.origin.channel == "C0002" and not event.origin.is_direct


def _submit(data: dict[str, Any]) -> dict[str, Any]:
    import json
    from pathlib import Path

    path = Path(__file__).parent / "payloads" / "teams" / "action_submit.json"
    activity: dict[str, Any] = json.loads(path.read_text())
    activity["value"] = data
    activity.pop("text", None)
    return activity


def test_teams_carries_the_channel_in_the_submit_data_and_the_press_acts_there() -> None:
    from botbuilder.schema import Activity

    card = CardRenderer().to_card(MENU)
    members = next(a for a in card["actions"] if a["title"] == "Members")
    assert members["data"] == {"action": "command", "value": "members", "channel": "C0002"}
    event = to_message_event(Activity().deserialize(_submit(members["data"])))
    assert isinstance(event, ButtonPressed) and event.origin.channel == "C0002"
    assert not event.origin.is_direct


def test_a_form_for_another_channel_is_submitted_there_on_teams() -> None:
    from botbuilder.schema import Activity

    reply = Reply(kind="oops", data={"error_id": "x"}, form=Form(name="setup", channel="C0002"))
    card = CardRenderer().to_card(reply)
    save = next(a for a in card["actions"] if a["data"].get("form") == "setup")
    event = to_message_event(Activity().deserialize(_submit({**save["data"], "name": "DS"})))
    assert isinstance(event, FormSubmitted) and event.origin.channel == "C0002"
    assert dict(event.values) == {"name": "DS"}
