"""`/cop` through copbot's real endpoint, signed like Slack, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from sqlmodel import select

from adapters.slack.app import SlackAdapter
from bot.app import Core
from storage.models import Community
from tests.community_state import members_of
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_workspace import Answer, SlackClientSide, with_slack

SETUP = 'setup "Data Science" domain="ML" mission="Share reusable patterns"'
BOB = {"user_id": "U0BOB", "user_name": "bob"}
CAROL = {"user_id": "U0CAROL", "user_name": "carol"}


def shown(answer: Answer | dict[str, Any]) -> str:
    """Everything a person sees in an answer's blocks, as one string."""
    body = answer.json if isinstance(answer, Answer) else answer
    parts: list[str] = []
    for block in body.get("blocks", []):
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        parts += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
        parts += [e["text"]["text"] for e in block.get("elements", []) if e.get("type") == "button"]
    return "\n".join(parts)


async def test_the_spine_commands_work_as_in_the_console(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    created = await slack.command(SETUP)
    assert created.status == 200 and created.json["response_type"] == "in_channel"
    assert "<@U0ALICE> started the Community of Practice *Data Science*" in shown(created)
    assert "*Stewards*\n<@U0ALICE>" in shown(created)
    assert created.json["blocks"][-1]["elements"][0]["value"] == "join"

    about = await slack.command("about", **CAROL)
    assert about.json["response_type"] == "ephemeral"
    assert "*Domain*\nML" in shown(about) and "*Mission*\nShare reusable patterns" in shown(about)

    joined = await slack.command("join", **BOB)
    assert joined.json["response_type"] == "in_channel"
    assert "Welcome <@U0BOB> to *Data Science*! We are now 2." in shown(joined)

    assert "Saved your expertise" in shown(await slack.command("skills Python, SQL", **BOB))
    listing = await slack.command("members")
    assert "<@U0ALICE> (steward)" in shown(listing)
    assert "<@U0BOB> (member): Python, SQL" in shown(listing)

    assert "• <@U0BOB>: Python" in shown(await slack.command("who python", **CAROL))
    listing = await slack.command("communities", **CAROL)
    assert "*Data Science* (cop) in <#C0001>: 2 members" in shown(listing)

    refused = await slack.command("role <@U0ALICE|alice> member", **BOB)
    assert "Only stewards can use `/cop role`" in shown(refused)
    promoted = await slack.command("role <@U0BOB|bob> core")
    assert "<@U0BOB> is now on the core team of *Data Science* (was a member)" in shown(promoted)
    [dm] = await api.wait_for("chat.postMessage")
    assert api.calls_to("conversations.open")[0].args["users"] == "U0BOB"
    assert dm.args["channel"] == "DU0BOB" and "You are now on the core team" in dm.args["text"]

    left = await slack.command("leave <@U0BOB|bob>")
    assert "You left *Data Science*" in shown(left) and "<@U0BOB> is a steward now" in shown(left)
    assert await members_of(core) == {"U0BOB": "steward"}

    help_text = shown(await slack.command("help"))
    for spec in core.router.registry.specs:
        assert spec.usage.replace("<", "&lt;").replace(">", "&gt;") in help_text
    assert "*Example:* `/cop setup" in shown(await slack.command("help setup"))
    assert "Did you mean `/cop members`?" in shown(await slack.command("membrs"))


async def test_setup_without_arguments_opens_the_modal(
    api: FakeSlackApi, slack: SlackClientSide
) -> None:
    answer = await slack.command("setup", trigger_id="T-123")

    assert answer.status == 200 and answer.text == ""
    [opened] = api.calls_to("views.open")
    assert opened.args["trigger_id"] == "T-123"
    assert opened.args["view"]["callback_id"] == "setup"
    assert '"channel_id": "C0001"' in opened.args["view"]["private_metadata"]


async def test_the_setup_text_is_shown_when_the_modal_cannot_open(
    api: FakeSlackApi, slack: SlackClientSide
) -> None:
    api.error_next("views.open", "expired_trigger_id")

    answer = await slack.command("setup")

    assert answer.json["response_type"] == "ephemeral"
    assert "`/cop setup" in shown(answer)


async def test_user_text_is_escaped_and_cannot_ping_or_link(
    core: Core, slack: SlackClientSide
) -> None:
    # Slack escapes what people type; copbot stores it as typed and escapes it again to show it.
    created = await slack.command('setup "&lt;!channel&gt; hi" mission="&lt;http://evil|bank&gt;"')

    text = shown(created)
    assert "*&lt;!channel&gt; hi*" in text and "&lt;http://evil|bank&gt;" in text
    assert "<!channel>" not in created.text and "<http://evil" not in created.text
    async with core.database.session() as session:
        community = (await session.exec(select(Community))).one()
    assert (community.name, community.mission) == ("<!channel> hi", "<http://evil|bank>")


async def test_workspaces_never_see_each_other(core: Core, slack: SlackClientSide) -> None:
    await slack.command('setup "Alpha"', team_id="T0001")

    other = await slack.command("members", team_id="T0002")
    listing = await slack.command("communities", team_id="T0002")

    assert "no community yet" in shown(other)
    assert "There are no communities here yet" in shown(listing)
    assert "Alpha" in shown(await slack.command("communities", team_id="T0001"))


async def test_a_bad_signature_or_an_old_timestamp_is_refused_and_changes_nothing(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    from tests.fakes.slack_signing import slash_command_body

    body = slash_command_body('setup "Forged"')
    forged = await slack.post(body, "application/x-www-form-urlencoded", secret="wrong")
    stale = await slack.post(
        body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 6 * 60
    )

    assert forged.status == 401 and stale.status == 401
    async with core.database.session() as session:
        assert (await session.exec(select(Community))).all() == []
    assert api.calls == []


async def test_slow_work_is_acknowledged_at_once_and_answered_later(
    core: Core, api: FakeSlackApi
) -> None:
    web_app = web.Application()
    SlackAdapter(with_slack(core, api), ack_deadline=0).mount(web_app)

    async with SlackClientSide(web_app, api=api) as slack:
        answer = await slack.command("communities", response_url=api.response_url("slow"))

        assert answer.json == {"text": "Working on it…", "response_type": "ephemeral"}
        [later] = await api.wait_for("response_url")
    assert later.path.endswith("/slow") and later.args["response_type"] == "ephemeral"
    assert "no communities here yet" in shown(later.args)
    assert later.args["replace_original"] is False
