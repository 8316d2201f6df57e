"""Slack payloads become neutral events: each converter against the stored payloads."""

from __future__ import annotations

import pytest

from adapters.slack.translate import (
    to_command_event,
    to_event,
    to_interaction_event,
    to_text,
)
from bot.events import (
    ButtonPressed,
    CommandInvoked,
    FormSubmitted,
    HomeOpened,
    MemberJoined,
    MessagePosted,
    MessageRef,
    Origin,
    ReactionAdded,
    ReactionRemoved,
)
from tests.fakes.slack_workspace import load_payload


def test_a_slash_command_becomes_a_command_event() -> None:
    event = to_command_event(load_payload("slash_command"))

    assert event == CommandInvoked(
        origin=Origin(
            platform="slack",
            workspace="T0001",
            channel="C0001",
            channel_name="general",
            user="U0ALICE",
            user_name="alice",
        ),
        text='setup "Data Engineering CoP"',
    )


def test_a_command_in_a_dm_is_direct_and_has_no_channel_name() -> None:
    command = {**load_payload("slash_command"), "channel_id": "D0ALICE"}
    command["channel_name"] = "directmessage"

    origin = to_command_event(command).origin

    assert origin.is_direct and origin.channel_name is None


@pytest.mark.parametrize(
    ("slack", "neutral"),
    [
        ("role <@U0BOB|bob> core", "role <@U0BOB|bob> core"),
        ("role <@U0BOB> core", "role <@U0BOB> core"),
        ("skills R&amp;D, &lt;b&gt;", "skills R&D, <b>"),
        ('setup "&lt;!channel&gt; hi"', 'setup "<!channel> hi"'),
        ("who <!channel> in <#C0001|general>", "who @channel in #general"),
        ("mission=<https://evil.example|bank>", "mission=https://evil.example"),
        ("see <https://example.org>", "see https://example.org"),
        ("ping <!subteam^S1|@data-team>", "ping @data-team"),
    ],
)
def test_to_text_keeps_mentions_and_unescapes_what_the_user_typed(slack: str, neutral: str) -> None:
    assert to_text(slack) == neutral


def test_member_joined_channel() -> None:
    event = to_event(load_payload("event_member_joined_channel"))

    assert isinstance(event, MemberJoined)
    assert event.event_id == "Ev0MEMBERJOIN"
    assert event.invited_by == "U0ALICE"
    assert (event.origin.workspace, event.origin.channel, event.origin.user) == (
        "T0001",
        "C0001",
        "U0BOB",
    )
    assert not event.origin.is_direct


@pytest.mark.parametrize(
    ("name", "kind"),
    [("event_reaction_added", ReactionAdded), ("event_reaction_removed", ReactionRemoved)],
)
def test_reactions(name: str, kind: type[ReactionAdded | ReactionRemoved]) -> None:
    event = to_event(load_payload(name))

    assert isinstance(event, kind)
    assert event.message.message_id == "1700000000.000100"
    assert event.message.channel == "C0001"
    assert event.reaction == "like"  # Slack's thumbsup, in the core's words
    assert (event.origin.channel, event.origin.user) == ("C0001", "U0BOB")
    assert event.event_id and event.event_id.startswith("Ev0REACT")


def test_a_reaction_on_a_file_is_ignored() -> None:
    body = load_payload("event_reaction_added")
    body["event"]["item"] = {"type": "file", "file": "F1"}

    assert to_event(body) is None


def test_app_home_opened() -> None:
    event = to_event(load_payload("event_app_home_opened"))

    assert isinstance(event, HomeOpened)
    assert event.event_id == "Ev0HOMEOPEN"
    assert event.origin.user == "U0ALICE" and event.origin.is_direct


def test_the_messages_tab_opening_is_not_the_home() -> None:
    body = load_payload("event_app_home_opened")
    body["event"]["tab"] = "messages"

    assert to_event(body) is None


def test_a_direct_message_becomes_a_message_event() -> None:
    event = to_event(load_payload("event_message_im"))

    assert isinstance(event, MessagePosted)
    assert event.text == "help"
    assert event.message_id == "1700000700.000100"
    assert event.origin.is_direct and event.origin.channel == "DU0ALICE"
    assert event.event_id == "Ev0MESSAGEIM"


@pytest.mark.parametrize(
    "change",
    [{"subtype": "message_changed"}, {"bot_id": "B0001"}, {"channel_type": "channel"}],
)
def test_bot_messages_edits_and_channel_messages_are_ignored(change: dict[str, str]) -> None:
    body = load_payload("event_message_im")
    body["event"].update(change)
    if change.get("channel_type") == "channel":
        body["event"]["channel"] = "C0001"

    assert to_event(body) is None


def test_url_verification_is_not_an_event() -> None:
    assert to_event(load_payload("event_url_verification")) is None


def test_a_button_press() -> None:
    event = to_interaction_event(load_payload("block_actions"))

    assert event == ButtonPressed(
        origin=Origin(
            platform="slack",
            workspace="T0001",
            channel="C0001",
            channel_name="general",
            user="U0ALICE",
            user_name="alice",
        ),
        action="join",
        value="join",
        message=MessageRef(
            platform="slack",
            workspace="T0001",
            channel="C0001",
            message_id="1700000000.000100",
        ),
    )


def test_a_second_button_keeps_its_action_and_a_home_button_names_its_channel() -> None:
    body = load_payload("block_actions")
    body["actions"][0].update({"action_id": "command:2", "value": "members", "block_id": "in:C9"})
    body.pop("channel")
    body["container"] = {"type": "view", "view_id": "V1"}

    event = to_interaction_event(body)

    assert isinstance(event, ButtonPressed)
    assert (event.action, event.value, event.origin.channel) == ("command", "members", "C9")


def test_a_modal_submission_carries_its_channel_and_values() -> None:
    event = to_interaction_event(load_payload("view_submission"))

    assert isinstance(event, FormSubmitted)
    assert event.form == "setup"
    assert dict(event.values) == {
        "name": "Data Engineering CoP",
        "kind": "community",
        "domain": "Data engineering",
        "mission": "Share pipelines, patterns & <pitfalls> openly.",
    }
    assert (event.origin.workspace, event.origin.channel, event.origin.user) == (
        "T0001",
        "C0001",
        "U0ALICE",
    )


def test_other_interactions_are_ignored() -> None:
    assert to_interaction_event({"type": "shortcut", "user": {"id": "U1"}}) is None


def test_a_button_or_form_with_no_channel_to_act_in_is_not_copbots_and_is_ignored() -> None:
    button = load_payload("block_actions")
    for key in ("channel", "container"):
        button.pop(key)
    button["actions"][0]["block_id"] = "in:"
    assert to_interaction_event(button) is None
    form = load_payload("view_submission")
    for metadata in ("", "{", "[1]", '{"channel_name": "general"}'):
        form["view"]["private_metadata"] = metadata
        assert to_interaction_event(form) is None
