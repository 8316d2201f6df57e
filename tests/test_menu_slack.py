"""The menu through Slack's HTTP endpoint, signed like Slack, against the fake Web API: `menu`
in the DM and on the App Home, its buttons pressed from the DM (acting in the community's
channel), the schedule-a-ritual modal opened and submitted, with a field error. On SQLite and
PostgreSQL."""

from __future__ import annotations

import copy
import json
from typing import Any

from sqlmodel import select

from bot.app import Core
from storage.models import Poll, Ritual
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_workspace import SlackClientSide, load_payload
from tests.test_slack_commands import BOB

DM = "DU0ALICE"


def dm_message(text: str, *, user: str = "U0ALICE", channel: str = DM) -> dict[str, Any]:
    body = copy.deepcopy(load_payload("event_message_im"))
    body["event"].update(text=text, user=user, channel=channel)
    body["event"].pop("blocks", None)
    body["event_id"] = f"Ev-{user}-{text}"
    return body


def press_in_dm(
    api: FakeSlackApi, block: dict[str, Any], element: dict[str, Any], *, user: str = "U0ALICE"
) -> dict[str, Any]:
    """A press of a menu button in the DM: the block id says which channel it acts in."""
    press = copy.deepcopy(load_payload("block_actions"))
    press["user"] = {"id": user, "username": user.lower(), "team_id": "T0001"}
    press["channel"] = {"id": DM, "name": "directmessage"}
    press["container"] = {"type": "message", "message_ts": "1700000800.000100", "channel_id": DM}
    press["response_url"] = api.response_url(f"menu-{element['value']}")
    press["actions"] = [{**element, "block_id": block["block_id"]}]
    return press


def menu_buttons(blocks: list[dict[str, Any]]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """label -> (actions block, button) of every button that acts in a community's channel."""
    return {
        e["text"]["text"]: (b, e)
        for b in blocks
        if b["type"] == "actions" and b["block_id"].startswith("in:")
        for e in b["elements"]
    }


async def steward_menu(api: FakeSlackApi, slack: SlackClientSide) -> list[dict[str, Any]]:
    await slack.command('setup "Data Science"')
    await slack.command("join", **BOB)
    await slack.command(
        'ritual add deep-dive "Deep dive" every week on tue at 15:00 Europe/Berlin rotate=yes'
    )
    await slack.command('poll "Lunch?" "Pizza" "Sushi"', **BOB)
    before = len(api.calls_to("chat.postMessage"))
    assert (await slack.envelope(dm_message("menu"))).status == 200
    posts = await api.wait_for("chat.postMessage", before + 1)
    menu = posts[-1]
    assert menu.args["channel"] == DM
    blocks: list[dict[str, Any]] = menu.args["blocks"]
    return blocks


async def test_menu_in_the_dm_and_on_the_app_home(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    blocks = await steward_menu(api, slack)
    text = json.dumps(blocks)
    assert "Your steward's menu" in text and "*Data Science (steward)* in <#C0001>" in text
    assert "Deep dive" in text and "going 0, maybe 0" in text and "Open polls" in text
    buttons = menu_buttons(blocks)
    assert {"Schedule a ritual", "Start a poll", "Rotation #1", "Manage roles"} <= set(buttons)
    assert {b["block_id"] for b, _ in buttons.values()} == {"in:C0001"}

    # The App Home shows the menu too, with its buttons.
    assert (await slack.envelope(load_payload("event_app_home_opened"))).status == 200
    [published] = await api.wait_for("views.publish")
    home = published.args["view"]["blocks"]
    assert "Your steward's menu" in json.dumps(home)
    assert "Schedule a ritual" in menu_buttons(home)

    # A member's menu, in their own DM.
    bob_dm = dm_message("menu", user="U0BOB", channel="DU0BOB")
    before = len(api.calls_to("chat.postMessage"))
    await slack.envelope(bob_dm)
    posts = await api.wait_for("chat.postMessage", before + 1)
    member = posts[-1].args
    assert member["channel"] == "DU0BOB" and "Your menu" in json.dumps(member["blocks"])
    assert set(menu_buttons(member["blocks"])) == {"Volunteer to facilitate #1"}


async def test_a_command_button_acts_in_the_channel_and_answers_in_the_dm(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    blocks = await steward_menu(api, slack)
    block, roles = menu_buttons(blocks)["Manage roles"]
    assert (await slack.interact(press_in_dm(api, block, roles))).status == 200
    [answer] = await api.wait_for("response_url")
    assert answer.args["response_type"] == "ephemeral"
    assert answer.path.endswith("/menu-members")  # the DM message's own response URL
    assert (
        "Data Science: 2 members" in answer.args["text"]
        and "<@U0BOB> (member)" in answer.args["text"]
    )


async def test_the_schedule_modal_opens_shows_a_field_error_and_adds_the_ritual(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    blocks = await steward_menu(api, slack)
    block, schedule = menu_buttons(blocks)["Schedule a ritual"]
    await slack.interact(press_in_dm(api, block, schedule))
    [opened] = await api.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "ritual_form"
    assert json.loads(view["private_metadata"])["channel_id"] == "C0001"
    assert [b["block_id"] for b in view["blocks"]] == [
        "template",
        "title",
        "schedule",
        "duration",
        "remind",
        "where",
        "rotate",
    ]

    def submission(when: str) -> dict[str, Any]:
        payload = copy.deepcopy(load_payload("view_submission"))
        payload["view"].update(
            callback_id="ritual_form",
            private_metadata=view["private_metadata"],
            state={
                "values": {
                    "template": {
                        "template": {
                            "type": "static_select",
                            "selected_option": {"value": "office-hours"},
                        }
                    },
                    "title": {"title": {"type": "plain_text_input", "value": "Ask <!channel>"}},
                    "schedule": {"schedule": {"type": "plain_text_input", "value": when}},
                    "duration": {"duration": {"type": "plain_text_input", "value": "30m"}},
                    "remind": {"remind": {"type": "plain_text_input", "value": None}},
                }
            },
        )
        return payload

    refused = await slack.interact(submission("every blue moon"))
    assert refused.json["response_action"] == "errors"
    assert list(refused.json["errors"]) == ["schedule"]
    assert "every blue moon" in refused.json["errors"]["schedule"]

    done = await slack.interact(submission("every week on fri at 11:00"))
    assert done.status == 200 and done.text == ""
    async with core.database.session() as session:
        ritual = (await session.exec(select(Ritual).where(Ritual.number == 2))).one()
    assert (ritual.title, ritual.template, ritual.duration_minutes) == (
        "Ask <!channel>",
        "office-hours",
        30,
    )


async def test_a_member_pressing_a_stewards_button_is_refused(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    blocks = await steward_menu(api, slack)
    block, schedule = menu_buttons(blocks)["Schedule a ritual"]
    await slack.interact(press_in_dm(api, block, schedule, user="U0BOB"))
    [answer] = await api.wait_for("response_url")
    assert "steward" in json.dumps(answer.args)
    assert api.calls_to("views.open") == []
    # The poll form is open to members; submitted, the poll goes to the channel.
    _, poll = menu_buttons(blocks)["Start a poll"]
    await slack.interact(press_in_dm(api, block, poll, user="U0BOB"))
    [opened] = await api.wait_for("views.open")
    payload = copy.deepcopy(load_payload("view_submission"))
    payload["user"] = {"id": "U0BOB", "username": "bob", "name": "bob", "team_id": "T0001"}
    payload["view"].update(
        callback_id="poll_form",
        private_metadata=opened.args["view"]["private_metadata"],
        state={
            "values": {
                "question": {"question": {"type": "plain_text_input", "value": "Day?"}},
                "options": {"options": {"type": "plain_text_input", "value": "Tue\nThu"}},
            }
        },
    )
    before = len(api.calls_to("chat.postMessage"))
    assert (await slack.interact(payload)).status == 200
    posts = await api.wait_for("chat.postMessage", before + 1)
    assert posts[-1].args["channel"] == "C0001" and "Day?" in json.dumps(posts[-1].args)
    async with core.database.session() as session:
        assert [p.question for p in (await session.exec(select(Poll))).all()] == ["Lunch?", "Day?"]
