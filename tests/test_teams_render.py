"""Every reply kind renders as a valid Adaptive Card 1.5, with user text made inert."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

import botbuilder.schema
import pytest
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from msrest.serialization import Serializer

from adapters.teams.render import (
    CARD_CONTENT_TYPE,
    Addressee,
    CardRenderer,
    escape_markdown,
)
from adapters.teams.sending import SendSerializer
from bot.app import Core
from messages.rendering import template_kinds
from tests.sample_replies import collect_replies

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ELEMENTS = {
    "TextBlock",
    "FactSet",
    "Container",
    "ColumnSet",
    "Input.Text",
    "Input.ChoiceSet",
    "Input.Toggle",
}


MODELS = {name: value for name, value in vars(botbuilder.schema).items() if isinstance(value, type)}
REFERENCE = ConversationReference(
    activity_id="1700000000000",
    user=ChannelAccount(id="29:1", name="Ada"),
    bot=ChannelAccount(id="28:copbot", name="copbot"),
    conversation=ConversationAccount(id="a:1", tenant_id="tenant-1"),
    channel_id="msteams",
    locale="en-US",
    service_url="https://smba.example/teams/",
)


@pytest.fixture
def backend() -> str:
    return "sqlite"  # rendering does not depend on the database


def elements(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for item in items:
        found.append(item)
        found.extend(elements(item.get("items", [])))
    return found


def check_card(card: dict[str, Any]) -> None:
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    assert card["$schema"] == SCHEMA
    assert card["fallbackText"].strip()
    assert card["body"]
    for element in elements(card["body"]):
        assert element["type"] in ELEMENTS, element
        if element["type"] == "TextBlock":
            assert isinstance(element["text"], str) and element["text"].strip()
            assert "None" not in element["text"]
        if element["type"] == "FactSet":
            assert all(f["title"] and f["value"] for f in element["facts"])
    for action in card.get("actions", []):
        assert action["type"] == "Action.Submit"
        # A menu's buttons and forms also name the channel they act in.
        assert set(action["data"]) - {"channel"} in ({"action", "value"}, {"form"})


async def test_every_reply_kind_renders_as_an_adaptive_card(core: Core) -> None:
    replies = await collect_replies(core)
    assert sorted(replies) == template_kinds("teams") == template_kinds("text")
    renderer = CardRenderer()
    for kind, reply in replies.items():
        card = renderer.to_card(reply)
        check_card(card)
        activity = renderer.to_activity(reply)
        [attachment] = activity.attachments
        assert attachment.content_type == CARD_CONTENT_TYPE
        # The notification summary is the plain text of the reply: one line, no card markup.
        summary = activity.summary
        assert summary and len(summary) <= 200 and "\n" not in summary, kind
        assert "**" not in summary and "\\" not in summary, kind


async def test_every_reply_is_written_by_the_send_serializer_as_msrest_writes_it(
    core: Core,
) -> None:
    """`SendSerializer` writes every reply itself; the JSON equals msrest's for a plain
    botbuilder `Activity` with the same values, conversation fields and mention included."""
    replies = await collect_replies(core)
    serializer = Serializer(MODELS)
    addressee = Addressee(id="29:1", name="Ada")
    for kind, reply in replies.items():
        sent = CardRenderer().to_activity(reply, addressee=addressee)
        TurnContext.apply_conversation_reference(sent, REFERENCE)
        declared = {k: v for k, v in vars(sent).items() if k != "additional_properties"}
        plain = Activity(**declared)
        expected = serializer.body(plain, "Activity")
        assert serializer.body(sent, "Activity") == expected, kind
        with patch.object(Serializer, "body", side_effect=AssertionError("left to msrest")):
            assert SendSerializer(MODELS).body(sent, "Activity") == expected, kind


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (MessageFactory.text("hi <at>Ada</at>"), "Activity"),
        (Activity(type="typing", timestamp=datetime(2026, 11, 28, 3, 0, tzinfo=UTC)), "Activity"),
        (Activity(type="message", attachments=[None]), "Activity"),
        (Activity(type="message", value={"n": 1, "ok": True, "x": [1.5, None]}), "Activity"),
        (Activity(type="message", channel_data={1: "not a JSON key"}), "Activity"),
        (Activity(type="message", text=5), "Activity"),  # type: ignore[arg-type]
        (
            ConversationParameters(
                is_group=False,
                bot=ChannelAccount(id="28:copbot"),
                members=[ChannelAccount(id="29:1", name="Ada", aad_object_id="a-1")],
                tenant_id="tenant-1",
                channel_data={"tenant": {"id": "tenant-1"}},
            ),
            "ConversationParameters",
        ),
    ],
    ids=["text", "timestamp", "none-in-list", "object", "int-key", "int-text", "conversation"],
)
def test_send_serializer_writes_what_msrest_writes(body: Any, kind: str) -> None:
    """Bodies copbot's connector clients send are the JSON msrest writes, whether the fast
    path writes them or leaves them to msrest (a date, a None in a list, a non-JSON value)."""
    expected = Serializer(MODELS).body(copy.deepcopy(body), kind)
    assert SendSerializer(MODELS).body(body, kind) == expected


async def test_buttons_and_forms_become_submit_actions(core: Core) -> None:
    replies = await collect_replies(core)
    renderer = CardRenderer()
    charter = replies["charter"]
    assert charter.buttons, "the sample's about reply offers Join"
    [join] = renderer.to_card(charter)["actions"]
    assert join["data"] == {"action": "command", "value": "join"}
    assert join["title"] == "Join" and join["style"] == "positive"
    form = renderer.to_card(replies["setup_form"])
    assert form["actions"] == [
        {"type": "Action.Submit", "title": "Save", "style": "positive", "data": {"form": "setup"}}
    ]
    inputs = {e["id"] for e in form["body"] if e["type"].startswith("Input.")}
    assert inputs == {"name", "kind", "domain", "mission"}


async def test_user_text_cannot_forge_markup_or_mentions(core: Core) -> None:
    replies = await collect_replies(core)
    card = CardRenderer().to_card(replies["charter"])
    texts = [e.get("text", "") for e in elements(card["body"])]
    facts = {f["title"]: f["value"] for e in card["body"] for f in e.get("facts", [])}
    assert "Data &lt;Science&gt; &amp; Co" in texts
    assert facts["Domain"] == "ML \\*bold\\* \\`code\\`"
    assert facts["Mission"] == "&lt;!channel&gt; hi"
    assert "msteams" not in card or "entities" not in card["msteams"]


def test_escape_covers_html_markdown_and_line_starts() -> None:
    assert escape_markdown("<at>Boss</at>") == "&lt;at&gt;Boss&lt;/at&gt;"
    assert escape_markdown("[click](http://x) _i_ # h ~s~ a|b") == (
        "\\[click\\](http://x) \\_i\\_ \\# h \\~s\\~ a\\|b"
    )
    assert escape_markdown("- item\n1. first") == "\\- item\n\\1. first"
    assert escape_markdown("back\\slash") == "back\\\\slash"


async def test_a_reply_for_one_person_in_a_thread_mentions_them(core: Core) -> None:
    replies = await collect_replies(core)
    addressee = Addressee(id="29:bob", name="Bob <Lee>")
    card = CardRenderer().to_card(replies["error"], addressee=addressee)
    assert card["body"][0]["text"] == "<at>Bob Lee</at>"
    assert card["msteams"]["entities"] == [
        {
            "type": "mention",
            "text": "<at>Bob Lee</at>",
            "mentioned": {"id": "29:bob", "name": "Bob <Lee>"},
        }
    ]
    check_card(card)
