"""Rituals through Slack and Teams over HTTP, against the fake Web API and Bot Connector:
times as Slack date tokens (each reader's own zone) and in the community's zone on Teams."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime

from bot.app import Core
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_workspace import SlackClientSide, load_payload
from tests.test_slack_commands import BOB, CAROL, shown
from tests.test_teams_endpoint import BOB as TEAMS_BOB
from tests.test_teams_endpoint import CAROL as TEAMS_CAROL
from tests.test_teams_endpoint import TeamsChat, connector, serve, settings  # noqa: F401 (fixtures)
from tests.test_teams_endpoint import teams as teams  # the fixture

ADD = 'ritual add deep-dive "Monthly deep dive" every month on first tue at 15:00 Europe/Berlin'
FIRST_TUESDAYS_UTC = [
    datetime(2026, 3, 3, 14, tzinfo=UTC),
    datetime(2026, 4, 7, 13, tzinfo=UTC),
    datetime(2026, 5, 5, 13, tzinfo=UTC),
    datetime(2026, 6, 2, 13, tzinfo=UTC),
    datetime(2026, 7, 7, 13, tzinfo=UTC),
    datetime(2026, 8, 4, 13, tzinfo=UTC),
]
DATE_TOKEN = re.compile(r"<!date\^(\d+)\^\{date_short_pretty\} at \{time\}\|([^>]+)>")


def slack_dates(text: str) -> list[tuple[datetime, str]]:
    return [
        (datetime.fromtimestamp(int(epoch), UTC), fallback)
        for epoch, fallback in DATE_TOKEN.findall(text)
    ]


async def test_slack_shows_each_reader_their_own_time(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await slack.command('setup "Data Science" timezone=Europe/Berlin')
    await slack.command("join", **BOB)
    await slack.command("join", **CAROL)
    refused = await slack.command(ADD, **BOB)
    assert "Only stewards or the core team can use `/cop ritual add`." in shown(refused)
    added = await slack.command(ADD)
    assert added.json["response_type"] == "in_channel"
    assert "<@U0ALICE> added #1 “Monthly deep dive”: every month on the first Tuesday" in (
        shown(added)
    )
    listed = await slack.command("ritual next 6", **CAROL)
    assert listed.json["response_type"] == "ephemeral"
    dates = slack_dates(shown(listed))
    assert [when for when, _ in dates] == FIRST_TUESDAYS_UTC
    assert dates[0][1] == "Tue 2026-03-03 15:00 CET" and dates[1][1] == "Tue 2026-04-07 15:00 CEST"
    assert "#1 Monthly deep dive: <@U0ALICE>" in shown(listed)
    assert slack_dates(listed.json["text"])  # the notification text has them too
    assert "`/cop ritual add &lt;template&gt;" in shown(await slack.command("help ritual add"))


async def test_a_slack_dm_button_confirms_a_turn(
    core: Core, api: FakeSlackApi, slack: SlackClientSide
) -> None:
    await slack.command('setup "Data Science" timezone=Europe/Berlin')
    await slack.command("join", **BOB)
    await slack.command("role <@U0BOB|bob> core")
    await slack.command("ritual add problem-solving")
    skipped = await slack.command("rotation #1 skip")
    assert "You're off the " in shown(skipped) and "<@U0BOB> takes it" in shown(skipped)
    posts = await api.wait_for("chat.postMessage", count=2)  # bob's role notice, then this
    [notice] = [p for p in posts if "rotation" in json.dumps(p.args.get("blocks"))]
    assert notice.args["channel"] == "DU0BOB"
    blocks = notice.args["blocks"]
    [confirm, cannot] = blocks[-1]["elements"]
    assert (confirm["value"], cannot["value"]) == (
        "rotation #1 confirm 2026-03-04",
        "rotation #1 skip 2026-03-04",
    )
    press = copy.deepcopy(load_payload("block_actions"))
    press["user"] = {"id": "U0BOB", "username": "bob", "team_id": "T0001"}
    press["channel"] = {"id": "DU0BOB", "name": "directmessage"}
    press["container"] = {**press["container"], "channel_id": "DU0BOB"}
    press["response_url"] = api.response_url("press")
    press["actions"] = [{**press["actions"][0], **confirm, "block_id": "copbot_actions"}]
    answer = await slack.interact(press)
    assert answer.status == 200
    posts = await api.wait_for("chat.postMessage", count=3)  # the answer, in bob's DMs
    assert posts[-1].args["channel"] == "DU0BOB"
    text = json.dumps(posts[-1].args["blocks"])
    assert "Thank you: you facilitate the " in text and "(confirmed)" in text


async def test_teams_shows_the_community_zone_on_cards(teams: TeamsChat) -> None:
    await teams.say('setup "Data Science" timezone=Europe/Berlin')
    await teams.say("join", user=TEAMS_BOB)
    added = await teams.say(ADD)
    assert "**Alice Smith** added #1 “Monthly deep dive”: every month on the first Tuesday" in added
    listed = await teams.say("ritual next 6", user=TEAMS_BOB)
    assert re.findall(r"\w{3} \d{4}-\d{2}-\d{2} 15:00 CES?T", listed) == [
        "Tue 2026-03-03 15:00 CET",
        "Tue 2026-04-07 15:00 CEST",
        "Tue 2026-05-05 15:00 CEST",
        "Tue 2026-06-02 15:00 CEST",
        "Tue 2026-07-07 15:00 CEST",
        "Tue 2026-08-04 15:00 CEST",
    ]
    refused = await teams.say("ritual cancel #1", user=TEAMS_BOB)
    assert "Only stewards or the core team can use **ritual cancel**." in refused
    shown_card = await teams.say("ritual show #1", user=TEAMS_CAROL)
    assert "Schedule: every month on the first Tuesday at 15:00 Europe/Berlin" in shown_card
    assert "Add to calendar: http://127.0.0.1:3000/calendar/" in shown_card
    away = await teams.say("away 2026-04-01 2026-04-10", user=TEAMS_BOB)
    assert "You're away from 2026-04-01 to 2026-04-10" in away
