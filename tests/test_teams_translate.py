"""Teams activities (stored real payloads) become the core's neutral events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botbuilder.schema import Activity

from adapters.teams import translate
from bot.events import (
    ButtonPressed,
    CommandInvoked,
    FormSubmitted,
    MemberJoined,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
)
from bot.parsing import parse

PAYLOADS = Path(__file__).parent / "payloads" / "teams"
ALICE = "29:1q3wOAF0ZgnWEnbMlzf6fDeiYpl0YZGTX3VKbyFnB6QsD8vkjKpeHDuqqm0dOQx4n8rDmZkjOWJC0vgZiWbDkpQ"
BOB = "29:1Uu9KqCw0r0kV8rYHh3Tb4u9o1XjEw7mq2oPZsA5dFgLcN6xYpR3sT8vW1zB2eH4jK7mQ9nS0tU5yV6wX8zA3bC"
CHANNEL = "19:8a1f0c3e5b7d4f2a9c6e1b3d5f7a9c2e@thread.tacv2"


def raw(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return data


def activity(name: str, **changes: Any) -> Activity:
    data = {**raw(name), **changes}
    parsed: Activity = Activity().deserialize(data)
    return parsed


def test_channel_message_drops_the_bot_mention_and_binds_to_the_channel() -> None:
    [event] = translate.to_events(activity("channel_message_mention"))
    assert isinstance(event, CommandInvoked)
    assert event.text == "join"
    where = event.origin
    assert (where.platform, where.workspace) == ("teams", "tenant-0001")
    assert where.channel == CHANNEL  # the channel, not the thread
    assert where.thread == "1700000000101"
    assert (where.user, where.user_name) == (ALICE, "Alice Smith")
    assert where.channel_name == "Practice" and not where.is_direct
    assert event.event_id and event.event_id.startswith("teams:")


def test_a_user_mention_becomes_the_neutral_form_the_parser_reads() -> None:
    [event] = translate.to_events(activity("channel_message_user_mention"))
    assert isinstance(event, CommandInvoked)
    assert event.text == f"role <@{BOB}|Bob Lee> core"
    command = parse(event.text)
    assert command.verb == "role" and command.words == ("core",)
    [user] = command.users
    assert (user.id, user.name) == (BOB, "Bob Lee")


def test_only_the_bots_own_mention_text_is_removed() -> None:
    text = "<at>copbot</at> who copbot\u00a0internals"
    [event] = translate.to_events(activity("channel_message_mention", text=text))
    assert isinstance(event, CommandInvoked)
    assert event.text == "who copbot internals"


def test_personal_message_is_a_plain_command_and_cop_prefix_is_kept_for_the_parser() -> None:
    [event] = translate.to_events(activity("personal_message"))
    assert isinstance(event, MessagePosted)
    assert event.text == "help" and event.origin.is_direct
    assert event.origin.channel == raw("personal_message")["conversation"]["id"]
    [prefixed] = translate.to_events(activity("personal_message", text="/cop who sql"))
    assert isinstance(prefixed, MessagePosted)
    assert parse(prefixed.text).verb == "who"


def test_card_button_data_becomes_button_pressed() -> None:
    value = {"action": "command", "value": "join"}
    [event] = translate.to_events(activity("action_submit", value=value))
    assert isinstance(event, ButtonPressed)
    assert event.message is not None
    assert (event.action, event.value, event.message.message_id) == (
        "command",
        "join",
        "1700000000104",
    )
    assert event.origin.channel == CHANNEL
    [stored] = translate.to_events(activity("action_submit"))
    assert isinstance(stored, ButtonPressed) and stored.action == "join"


def test_a_submitted_form_becomes_form_submitted() -> None:
    value = {"form": "setup", "name": "Platform", "kind": "guild", "msteams": {"x": 1}}
    [event] = translate.to_events(activity("action_submit", value=value))
    assert isinstance(event, FormSubmitted)
    assert event.form == "setup"
    assert dict(event.values) == {"name": "Platform", "kind": "guild"}


@pytest.mark.parametrize("kind", ["like", "heart", "laugh", "surprised", "sad", "angry"])
def test_reactions_added_and_removed(kind: str) -> None:
    [added] = translate.to_events(
        activity("message_reaction_added", reactionsAdded=[{"type": kind}])
    )
    assert isinstance(added, ReactionAdded)
    assert (added.reaction, added.message.message_id) == (kind, "1700000000106")
    [removed] = translate.to_events(
        activity("message_reaction_removed", reactionsRemoved=[{"type": kind}])
    )
    assert isinstance(removed, ReactionRemoved) and removed.reaction == kind
    assert added.event_id != removed.event_id


def test_members_added_gives_one_event_per_person_and_skips_the_bot() -> None:
    members = [
        {"id": BOB, "name": "Bob Lee"},
        {"id": "28:9f1c2d3e-4b5a-4c6d-8e7f-1a2b3c4d5e6f"},
        {"id": "29:carol"},
    ]
    events = translate.to_events(
        activity("conversation_update_members_added", membersAdded=members)
    )
    assert [type(e) for e in events] == [MemberJoined, MemberJoined]
    assert [(e.origin.user, e.origin.user_name) for e in events] == [
        (BOB, "Bob Lee"),
        ("29:carol", ""),
    ]
    assert all(isinstance(e, MemberJoined) and e.invited_by == ALICE for e in events)
    assert events[0].origin.channel_name == "General"  # the team's General channel
    assert translate.bot_was_added(
        activity("conversation_update_members_added", membersAdded=members)
    )


def test_installation_update_carries_no_event_but_names_its_place() -> None:
    install = activity("installation_update")
    assert translate.to_events(install) == []
    assert translate.tenant_of(install) == "tenant-0001"
    assert translate.channel_key(install) == CHANNEL


def test_tenant_comes_from_channel_data_then_the_conversation() -> None:
    without = activity("personal_message", channelData={})
    assert translate.tenant_of(without) == "tenant-0001"  # conversation.tenantId


def test_event_ids_differ_between_conversations_with_the_same_message_id() -> None:
    one = activity("personal_message")
    other = activity("personal_message", conversation={"id": "a:other", "tenantId": "t"})
    assert translate.event_id(one) != translate.event_id(other)


def test_empty_messages_and_unknown_types_carry_nothing() -> None:
    assert translate.to_events(activity("channel_message_mention", text="<at>copbot</at>")) == []
    assert translate.to_events(activity("personal_message", type="typing")) == []
