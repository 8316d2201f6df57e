"""The health report on Slack and Teams over HTTP, and its chart served by copbot under an
unguessable link, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from bot.app import Core, build_core
from bot.clock import FixedClock
from bot.services.health import LINK_LIFETIME
from bot.settings import Settings
from storage.database import Database
from storage.models import ChartLink, Community
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_workspace import SlackClientSide, slack_client_side
from tests.health_history import History
from tests.test_slack_commands import shown
from tests.test_teams_endpoint import (  # noqa: F401  (fixtures)
    SETUP,
    TeamsChat,
    connector,
    serve,
    teams,
)

PUBLIC = "https://copbot.example.org"
CHART_LINK = re.compile(re.escape(PUBLIC) + r"/charts/([A-Za-z0-9_-]{32})\.png")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(database_url=database.url, host="127.0.0.1", public_url=PUBLIC)


async def with_history(core: Core, clock: FixedClock, channel: str) -> None:
    """Meetings over the last weeks of the community in `channel`, one fewer each time."""
    async with core.database.session() as session:
        here = select(Community).where(Community.channel_id == channel)
        community = (await session.exec(here)).one()
    history = History(core, community, clock.now())
    for days_ago, came, pulse in ((40, 8, [1, 2]), (30, 6, [2]), (20, 4, [3]), (10, 2, [4])):
        await history.meeting(days_ago=days_ago, came=came, pulse=pulse, facilitator="U0BOB")
    clock.advance(seconds=1)


async def fetch(slack: SlackClientSide, path: str) -> tuple[int, str, str, bytes]:
    """GET `path` from copbot's server: status, content type, Cache-Control, body."""
    async with aiohttp.ClientSession() as session, session.get(slack.url + path) as response:
        body = await response.read()
        return (
            response.status,
            response.content_type,
            response.headers.get("Cache-Control", ""),
            body,
        )


def delivery_id(args: dict[str, Any]) -> object:
    metadata = args.get("metadata")
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return (metadata or {}).get("event_payload", {}).get("delivery_id")


def image_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b.get("type") == "image"]


# Slack ---------------------------------------------------------------------------------------


async def test_slack_shows_the_report_with_the_chart_as_an_image_block(
    core: Core, clock: FixedClock, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await slack.command('setup "DS"')
    await with_history(core, clock, "C0001")
    answer = await slack.command("stats days=60")
    assert answer.status == 200 and answer.json["response_type"] == "ephemeral"
    text = shown(answer)
    assert "*Health of DS*, the last 60 days" in text
    assert "People per meeting: *5.0*" in text  # (8 + 6 + 4 + 2) / 4
    assert "Fewer people came to #1 Ritual 1 three meetings in a row: 8, 6, 4, 2." in text
    assert "<@U0BOB> led 4 of the last 4 meetings" in text
    [image] = image_blocks(answer.json["blocks"])
    assert image["alt_text"] == "People per meeting and pulse of DS"
    token = CHART_LINK.fullmatch(image["image_url"])
    assert token is not None
    status, content_type, cache, body = await fetch(slack, f"/charts/{token.group(1)}.png")
    assert status == 200 and content_type == "image/png" and cache.startswith("private")
    assert body.startswith(PNG) and len(body) > 5_000


async def test_a_chart_link_is_new_each_time_and_unknown_or_expired_ones_are_404(
    core: Core, clock: FixedClock, slack: SlackClientSide
) -> None:
    await slack.command('setup "DS"')
    await with_history(core, clock, "C0001")
    links = set()
    for _ in range(3):
        [image] = image_blocks((await slack.command("stats")).json["blocks"])
        links.add(image["image_url"])
    assert len(links) == 3
    async with core.database.session() as session:
        stored = (await session.exec(select(ChartLink.token))).all()
    assert len(stored) == 3 and all(len(token) == 32 for token in stored)
    for path in (
        "/charts/" + "A" * 32 + ".png",  # well formed, unknown
        "/charts/short.png",
        "/charts/../healthz.png",
        "/charts/" + stored[0] + ".svg",
    ):
        assert (await fetch(slack, path))[0] == 404, path
    assert (await fetch(slack, f"/charts/{stored[0]}.png"))[0] == 200
    clock.advance(seconds=LINK_LIFETIME.total_seconds() + 1)
    assert (await fetch(slack, f"/charts/{stored[0]}.png"))[0] == 404
    assert await core.health.forget_expired_links() == 3


async def test_a_report_without_meetings_comes_without_a_chart(
    core: Core, slack: SlackClientSide
) -> None:
    """An empty chart drew 1970's midnight hours and fractions of people."""
    await slack.command('setup "DS"')
    answer = await slack.command("stats")
    assert "Meetings held: *0*" in shown(answer)
    assert image_blocks(answer.json["blocks"]) == []
    async with core.database.session() as session:
        assert (await session.exec(select(ChartLink))).all() == []


async def test_without_a_public_address_slack_shows_the_report_without_the_image(
    core: Core, clock: FixedClock, api: FakeSlackApi, database: Database
) -> None:
    private = core.settings.model_copy(update={"public_url": None})
    bare = build_core(private, database=database, clock=clock)
    async with slack_client_side(bare, api) as slack:
        await slack.command('setup "DS"')
        await with_history(bare, clock, "C0001")
        answer = await slack.command("stats days=60")
    assert image_blocks(answer.json["blocks"]) == []
    assert "People per meeting  █▆▅▃" in shown(answer)
    assert "/charts/" not in answer.text


async def test_slack_refuses_stats_to_a_member_in_words(core: Core, slack: SlackClientSide) -> None:
    await slack.command('setup "DS"')
    await slack.command("join", user_id="U0DANA", user_name="dana")
    answer = await slack.command("stats", user_id="U0DANA", user_name="dana")
    assert answer.status == 200
    assert "Only stewards, the core team or sponsors can use `/cop stats`" in shown(answer)
    assert image_blocks(answer.json["blocks"]) == []


# Teams ---------------------------------------------------------------------------------------


def card_images(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        element
        for activity in activities
        for attachment in activity.get("attachments", [])
        for element in attachment["content"]["body"]
        if element.get("type") == "Image"
    ]


async def test_teams_shows_the_report_with_the_chart_as_a_card_image(
    core: Core,
    clock: FixedClock,
    teams: TeamsChat,  # noqa: F811
    connector: FakeBotConnector,  # noqa: F811
) -> None:
    await teams.say(SETUP)
    async with core.database.session() as session:
        channel = (await session.exec(select(Community.channel_id))).one()
    await with_history(core, clock, channel)
    sent = await teams.post(teams.in_channel("stats days=60"))
    [image] = card_images(sent)
    token = CHART_LINK.fullmatch(image["url"])
    assert token is not None, image["url"]
    texts = " ".join(
        element.get("text", "")
        for activity in sent
        for element in activity["attachments"][0]["content"]["body"]
    )
    assert "Health of Data Science" in texts and "People per meeting: **5.0**" in texts
    chart = await teams.client.get(f"/charts/{token.group(1)}.png")
    assert chart.status == 200 and (await chart.read()).startswith(PNG)


async def test_the_monthly_digest_reaches_stewards_and_sponsors_on_slack_once(
    core: Core, clock: FixedClock, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await slack.command('setup "DS"')
    await slack.command("join", user_id="U0KAI", user_name="kai")
    await slack.command("role <@U0KAI|kai> sponsor")
    clock.advance(days=31)  # April 2: March's digest is due
    await with_history(core, clock, "C0001")  # meetings on Feb 21, Mar 3, 13 and 23
    assert await core.digests.run() == 2
    assert await core.digests.run() == 0
    posts = [
        call
        for call in api.calls_to("chat.postMessage")
        if str(delivery_id(call.args)).startswith("digest:")
    ]
    assert sorted(c.args["channel"] for c in posts) == ["DU0ALICE", "DU0KAI"]
    [image] = image_blocks(posts[0].args["blocks"])
    assert CHART_LINK.fullmatch(image["image_url"]) is not None
    text = shown({"blocks": posts[0].args["blocks"]})
    assert "*Your monthly digest of DS*, March 2026" in text
    assert "*To forward:*\n>In March 2026, DS held 3 meetings with 4.0 people on average" in text


def test_a_chart_is_drawn_for_no_meeting_one_meeting_and_unrecorded_ones() -> None:
    from datetime import UTC, datetime

    from adapters.charts import draw
    from bot.services.health_signs import Session

    def meeting(day: int, came: int | None, votes: int = 0) -> Session:
        return Session(
            occurrence_id=day,
            ritual_number=1,
            ritual_title="R",
            starts_at=datetime(2026, 1, day, tzinfo=UTC),
            facilitator=None,
            attendees=came,
            pulse_total=3 * votes,
            pulse_votes=votes,
        )

    for sessions in ([], [meeting(1, None)], [meeting(1, 4, 2), meeting(8, None), meeting(15, 6)]):
        assert draw("DS <&>", sessions).startswith(PNG)


def test_one_meeting_is_drawn_on_an_axis_of_days_not_hours() -> None:
    """`stats 7` with one meeting drew its bar across an axis from 06:00 to 22:00."""
    from adapters.charts import NARROWEST_DAYS, x_limits

    assert x_limits([]) is None
    assert x_limits([100.0, 100.0 + NARROWEST_DAYS]) is None
    low, high = x_limits([100.25])  # type: ignore[misc]
    assert (low, high) == (100.25 - NARROWEST_DAYS / 2, 100.25 + NARROWEST_DAYS / 2)
    low, high = x_limits([100.0, 104.0])  # type: ignore[misc]
    assert high - low == NARROWEST_DAYS and low < 100.0 and high > 104.0
