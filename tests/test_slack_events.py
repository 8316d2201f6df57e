"""Events API and interactivity through copbot's real endpoint, asserted on the fake API."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import pytest
from sqlmodel import select

from bot.app import Core
from storage.models import Community, Member, ProcessedEvent
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_workspace import SlackClientSide, load_payload, slack_client_side


async def processed(core: Core) -> list[str]:
    async with core.database.session() as session:
        return [e.event_id for e in (await session.exec(select(ProcessedEvent))).all()]


async def settle(core: Core, event_id: str, timeout: float = 5.0) -> None:
    """Wait until the lazy listener has handed `event_id` to the core."""
    async with asyncio.timeout(timeout):
        while event_id not in await processed(core):
            await asyncio.sleep(0.01)


async def test_url_verification_echoes_the_challenge(slack: SlackClientSide) -> None:
    answer = await slack.envelope(load_payload("event_url_verification"))

    assert answer.status == 200
    assert answer.json == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


@pytest.mark.parametrize(
    "name", ["event_member_joined_channel", "event_reaction_added", "event_reaction_removed"]
)
async def test_events_reach_the_core(core: Core, slack: SlackClientSide, name: str) -> None:
    body = load_payload(name)

    answer = await slack.envelope(body)

    assert answer.status == 200
    await settle(core, body["event_id"])


async def test_opening_the_home_tab_publishes_the_persons_communities(
    api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await slack.command('setup "Data Science" domain="ML"')
    await slack.command('setup "Platform Guild" kind=guild', user_id="U0BOB", channel_id="C0002")

    answer = await slack.envelope(load_payload("event_app_home_opened"))

    assert answer.status == 200
    [published] = await api.wait_for("views.publish")
    assert published.args["user_id"] == "U0ALICE"
    view = published.args["view"]
    assert view["type"] == "home"
    text = json.dumps(view["blocks"])
    assert "*Data Science* in <#C0001>" in text and "Steward" in text
    assert "Edit charter" in text and "in:C0001" in text  # a steward's quick actions
    assert "Others you can join" in text and "*Platform Guild* in <#C0002>" in text


async def test_a_direct_message_is_answered_in_the_dm(
    api: FakeSlackApi, slack: SlackClientSide
) -> None:
    answer = await slack.envelope(load_payload("event_message_im"))

    assert answer.status == 200
    [reply] = await api.wait_for("chat.postMessage")
    assert reply.args["channel"] == "DU0ALICE"
    assert "copbot keeps your community of practice alive" in reply.args["text"]


async def then_a_fresh_message(slack: SlackClientSide, api: FakeSlackApi) -> list[Any]:
    """Send a new DM and wait for its answer: the events sent before it have been handled
    by then (each is handled as it arrives), so what they posted is in `api.calls`."""
    marker = load_payload("event_message_im")
    marker["event_id"] = "Ev0MARKER"
    marker["event"]["ts"] = "1700000999.000100"
    before = len(api.calls_to("chat.postMessage"))
    await slack.envelope(marker)
    await api.wait_for("chat.postMessage", count=before + 1)
    return api.calls_to("chat.postMessage")


async def test_bot_messages_in_the_dm_are_ignored(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    body = load_payload("event_message_im")
    body["event"]["bot_id"] = "B0001"

    answer = await slack.envelope(body)

    assert answer.status == 200
    assert len(await then_a_fresh_message(slack, api)) == 1  # the marker's answer only
    assert await processed(core) == ["Ev0MARKER"]


async def test_a_redelivered_event_is_handled_once(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    body = load_payload("event_message_im")

    first = await slack.envelope(body)
    retry = await slack.envelope(body, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "x"})

    assert first.status == retry.status == 200
    await api.wait_for("chat.postMessage")
    assert len(await then_a_fresh_message(slack, api)) == 2  # the first and the marker
    assert sorted(await processed(core)) == ["Ev0MARKER", "Ev0MESSAGEIM"]


async def test_a_redelivery_after_a_restart_is_still_dropped(core: Core, api: FakeSlackApi) -> None:
    body = load_payload("event_message_im")
    async with slack_client_side(core, api) as before_restart:
        await before_restart.envelope(body)
        await api.wait_for("chat.postMessage")

    async with slack_client_side(core, api) as after_restart:
        answer = await after_restart.envelope(body, **{"X-Slack-Retry-Num": "2"})
        posts = await then_a_fresh_message(after_restart, api)

    assert answer.status == 200
    assert len(posts) == 2  # before the restart, and the marker: the redelivery posted none


async def test_a_button_press_runs_its_command(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    created = await slack.command('setup "Data Science"')
    button = created.json["blocks"][-1]["elements"][0]
    press = copy.deepcopy(load_payload("block_actions"))
    press["user"] = {"id": "U0BOB", "username": "bob", "team_id": "T0001"}
    press["response_url"] = api.response_url("press")
    press["actions"] = [{**press["actions"][0], **button, "block_id": "copbot_actions"}]

    answer = await slack.interact(press)

    assert answer.status == 200
    [welcome] = await api.wait_for("response_url")
    assert welcome.args["response_type"] == "in_channel"
    assert "Welcome <@U0BOB> to *Data Science*" in json.dumps(welcome.args["blocks"])
    async with core.database.session() as session:
        members = (await session.exec(select(Member))).all()
    assert {m.user_id for m in members} == {"U0ALICE", "U0BOB"}


async def test_a_home_tab_button_acts_in_its_channel_and_refreshes_the_home(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await slack.command('setup "Data Science"')
    press = copy.deepcopy(load_payload("block_actions"))
    press["user"] = {"id": "U0BOB", "username": "bob", "team_id": "T0001"}
    for key in ("channel", "message", "response_url"):
        press.pop(key)
    press["container"] = {"type": "view", "view_id": "V0HOME"}
    press["view"] = {"id": "V0HOME", "type": "home"}
    press["actions"] = [{"action_id": "command:join", "block_id": "in:C0001", "value": "join"}]

    await slack.interact(press)

    [welcome] = await api.wait_for("chat.postMessage")
    assert welcome.args["channel"] == "C0001" and "Welcome <@U0BOB>" in welcome.args["text"]
    [home] = await api.wait_for("views.publish")
    assert home.args["user_id"] == "U0BOB" and "Member" in json.dumps(home.args["view"])


async def test_submitting_the_setup_modal_creates_the_community(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    submission = load_payload("view_submission")
    values = submission["view"]["state"]["values"]
    values["kind"]["kind"]["selected_option"]["value"] = "guild"
    values["name"]["name"]["value"] = "<!channel> hi"

    answer = await slack.interact(submission)

    assert answer.status == 200 and answer.text == ""
    # Announced in the channel, as `/cop setup "..."` does.
    [charter] = await api.wait_for("chat.postMessage")
    assert charter.args["channel"] == "C0001"
    assert "&lt;!channel&gt; hi" in json.dumps(charter.args["blocks"])
    assert "<!channel>" not in json.dumps(charter.args)
    async with core.database.session() as session:
        community = (await session.exec(select(Community))).one()
    assert (community.name, community.kind, community.channel_id) == (
        "<!channel> hi",
        "guild",
        "C0001",
    )
    assert community.mission == "Share pipelines, patterns & <pitfalls> openly."


async def test_a_refused_modal_shows_the_error_on_the_field(
    core: Core, slack: SlackClientSide
) -> None:
    await slack.command('setup "Data Engineering CoP"', channel_id="C0009")
    submission = load_payload("view_submission")
    submission["view"]["state"]["values"]["kind"]["kind"]["selected_option"]["value"] = "cop"

    answer = await slack.interact(submission)

    assert answer.status == 200
    assert answer.json["response_action"] == "errors"
    assert "already a community called" in answer.json["errors"]["name"]
    async with core.database.session() as session:
        assert len((await session.exec(select(Community))).all()) == 1
