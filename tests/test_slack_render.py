"""Every Slack template renders real replies into valid Block Kit, with user text made inert."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.slack.render import (
    MAX_BLOCKS,
    MAX_TEXT,
    SlackRenderer,
    fit_blocks,
    mrkdwn_escape,
    to_actions,
    to_modal,
)
from bot.app import Core
from bot.replies import Button, Form, Reply
from messages.rendering import template_kinds
from tests.sample_replies import collect_replies

BLOCK_TYPES = {"section", "context", "divider", "actions", "header", "input"}


@pytest.fixture
def backend() -> str:
    return "sqlite"  # rendering does not depend on the database


def texts(blocks: list[dict[str, Any]]) -> Iterator[str]:
    for block in blocks:
        if isinstance(block.get("text"), dict):
            yield block["text"]["text"]
        for field in block.get("fields", []):
            yield field["text"]
        for element in block.get("elements", []):
            if element.get("type") in ("mrkdwn", "plain_text"):
                yield element["text"]
        if "accessory" in block:
            yield block["accessory"]["text"]["text"]


def check_blocks(blocks: Any, kind: str) -> None:
    assert isinstance(blocks, list) and 0 < len(blocks) <= MAX_BLOCKS, kind
    for block in blocks:
        assert block["type"] in BLOCK_TYPES, (kind, block)
        if block["type"] == "actions":
            ids = [e["action_id"] for e in block["elements"]]
            assert len(ids) == len(set(ids)) and len(ids) <= 25, (kind, ids)
            for element in block["elements"]:
                assert element["type"] == "button" and element["text"]["type"] == "plain_text"
    for text in texts(blocks):
        assert text and len(text) <= MAX_TEXT and "None" not in text, (kind, text)


async def test_every_text_kind_has_a_slack_template_that_renders(core: Core) -> None:
    replies = await collect_replies(core)
    assert template_kinds("slack") == template_kinds("text")
    renderer = SlackRenderer()
    for kind in template_kinds("slack"):
        reply = replies[kind]
        if kind == "home":
            view = renderer.to_home_view(reply)
            assert view["type"] == "home"
            check_blocks(view["blocks"], kind)
            continue
        message = renderer.to_message(reply)
        assert message["text"] and len(message["text"]) <= 3000, kind
        check_blocks(message["blocks"], kind)


async def test_user_text_cannot_ping_or_link(core: Core) -> None:
    replies = await collect_replies(core)  # names "Data <Science> & Co", mission "<!channel> hi"
    message = SlackRenderer().to_message(replies["charter"])
    shown = message["text"] + "".join(texts(message["blocks"]))

    assert "&lt;!channel&gt; hi" in shown and "<!channel>" not in shown
    assert "Data &lt;Science&gt; &amp; Co" in shown
    assert "<@alice>" in shown  # the steward's mention stays live


def test_mrkdwn_escape() -> None:
    assert (
        mrkdwn_escape("<http://evil|bank> & <!here>")
        == "&lt;http://evil|bank&gt; &amp; &lt;!here&gt;"
    )


def test_buttons_become_one_actions_block_with_unique_ids() -> None:
    [block] = to_actions(
        (
            Button(label="Join", action="command", value="join", style="primary"),
            Button(label="Members", action="command", value="members"),
        )
    )

    assert [e["action_id"] for e in block["elements"]] == ["command", "command:1"]
    assert [e["value"] for e in block["elements"]] == ["join", "members"]
    assert block["elements"][0]["style"] == "primary" and "style" not in block["elements"][1]


def test_a_huge_directory_stays_within_slacks_limits() -> None:
    members = [
        {
            "id": f"U{i:04d}",
            "name": f"person{i}",
            "role": "member",
            "role_label": "member",
            "skills": ["x" * 40] * 20,
        }
        for i in range(600)
    ]
    reply = Reply(
        kind="members",
        data={
            "community": {"name": "Big"},
            "role": None,
            "role_noun": "member",
            "members": members,
            "total": len(members),
            "page": 1,
            "more": None,
        },
        buttons=(Button(label="Join", action="command", value="join"),),
    )

    message = SlackRenderer().to_message(reply)

    check_blocks(message["blocks"], "members")
    assert message["blocks"][-1]["type"] == "actions"
    assert "more blocks not shown" in "".join(texts(message["blocks"]))


def test_fit_blocks_shortens_long_texts() -> None:
    blocks = fit_blocks([{"type": "section", "text": {"type": "mrkdwn", "text": "a" * 5000}}])

    assert len(blocks[0]["text"]["text"]) == MAX_TEXT


def test_the_setup_modal_carries_its_channel_and_current_values() -> None:
    form = Form(name="setup", values={"name": "<b>DS</b>", "kind": "guild", "mission": "M"})

    view = to_modal(form, channel="C0001", channel_name="general")

    assert view["type"] == "modal" and view["callback_id"] == "setup"
    assert view["private_metadata"] == '{"channel_id": "C0001", "channel_name": "general"}'
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert list(blocks) == ["name", "kind", "domain", "mission"]
    assert blocks["name"]["element"]["initial_value"] == "<b>DS</b>"  # plain text, not mrkdwn
    assert blocks["kind"]["element"]["initial_option"]["value"] == "guild"
    assert "initial_value" not in blocks["domain"]["element"]
    assert blocks["mission"]["element"]["multiline"] is True
    assert len(view["title"]["text"]) <= 24


def test_a_new_community_modal_says_create() -> None:
    view = to_modal(Form(name="setup"), channel="C1")

    assert view["submit"]["text"] == "Create"
    assert view["blocks"][1]["element"]["initial_option"]["value"] == "cop"
