"""In real time, through each adapter: a one-off ritual a minute ahead with a one-minute
reminder, copbot started by its composition root (`copbot.app.running`), the reminder arriving
once when due: in the console, in Slack over HTTP against the fake Web API (and an RSVP
pressed over HTTP edits its counts in), and in Teams against the fake Bot Connector."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp
from pydantic import SecretStr
from sqlmodel import select

from bot.settings import Settings
from copbot.app import running
from storage.database import Database
from storage.models import Community, Occurrence
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_signing import interaction_body, sign
from tests.ritual_rows import a_community, a_ritual, first_rows, in_minutes
from tests.test_serve import free_port
from tests.test_teams_endpoint import SETUP, TeamsChat, card_text

SECRET = "live-test-secret"
AHEAD = 1 + 4 / 60  # the meeting in 64 s: its one-minute reminder is due in about 4 s


async def until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


def fresh(database: Database) -> Database:
    """Another handle on the test's database, for copbot to own (and close)."""
    return Database(database.url, schema=database.schema)


async def test_the_console_prints_the_reminder_when_due_once(database: Database) -> None:
    now = datetime.now(UTC)
    community = await a_community(
        database, platform="console", workspace="local", channel="general", now=now
    )
    await a_ritual(database, community, now=now, reminders=[1], **in_minutes(now, AHEAD))
    lines: list[str] = []
    settings = Settings(database_url=database.url)
    async with running(settings, console=lines.append, database=fresh(database)) as copbot:

        def reminded() -> list[str]:
            return [line for line in lines if "Reminder: #1 Deep dive" in line]

        await until(lambda: bool(reminded()))
        await copbot.core.deliveries.sweep()  # once more, by hand: nothing new
    [line] = reminded()
    assert line.startswith("[to #general] Reminder: #1 Deep dive starts in 1m,")
    row = (await first_rows(database))["reminder:1"]
    assert row.outcome == "sent" and row.sent_at is not None and row.sent_at >= row.due_at


async def test_slack_gets_the_reminder_over_http_once_and_an_rsvp_edits_its_counts(
    database: Database,
) -> None:
    port = free_port()
    now = datetime.now(UTC)
    community = await a_community(
        database, platform="slack", workspace="T0001", channel="C0001", now=now
    )
    await a_ritual(database, community, now=now, reminders=[1], **in_minutes(now, AHEAD))
    async with FakeSlackApi(clock=time.time) as api:
        settings = Settings(
            database_url=database.url,
            host="127.0.0.1",
            port=port,
            slack_bot_token=SecretStr("xoxb-live"),
            slack_signing_secret=SecretStr(SECRET),
            slack_api_url=api.base_url,
        )
        async with running(settings, serve=True, database=fresh(database)) as copbot:
            [posted] = await api.wait_for("chat.postMessage", timeout=30)
            row = (await first_rows(database))["reminder:1"]
            assert posted.args["channel"] == "C0001"
            assert posted.args["metadata"]["event_payload"] == {"delivery_id": str(row.id)}
            assert "<!date^" in json.dumps(posted.args["blocks"])
            async with database.session() as session:
                meeting = (await session.exec(select(Occurrence))).one()
            ts = api.messages_in("C0001")[0]["ts"]
            press = {
                "type": "block_actions",
                "user": {"id": "U0BOB", "username": "bob", "team_id": "T0001"},
                "team": {"id": "T0001", "domain": "cop-test"},
                "channel": {"id": "C0001", "name": "general"},
                "container": {"type": "message", "message_ts": ts, "channel_id": "C0001"},
                "response_url": api.response_url("rsvp"),
                "actions": [
                    {
                        "action_id": "rsvp",
                        "block_id": "copbot_actions",
                        "value": f"{meeting.id} going",
                        "type": "button",
                    }
                ],
            }
            body = interaction_body(press)
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                **sign(SECRET, body, int(time.time())),
            }
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers
                ) as answer,
            ):
                assert answer.status == 200
            [confirmed] = await api.wait_for("response_url")
            assert confirmed.args["response_type"] == "ephemeral"
            assert "Noted: you're going to" in confirmed.args["text"]
            [edit] = await api.wait_for("chat.update", timeout=15)
            assert edit.args["ts"] == ts and "*Going* 1" in json.dumps(edit.args["blocks"])
            await copbot.core.deliveries.sweep()
        assert len(api.calls_to("chat.postMessage")) == 1


async def test_teams_gets_the_reminder_over_http_once(database: Database) -> None:
    port = free_port()
    settings = Settings(database_url=database.url, host="127.0.0.1", port=port)
    async with (
        FakeBotConnector() as connector,
        running(settings, serve=True, database=fresh(database)) as copbot,
    ):
        chat = TeamsChat(None, connector)  # type: ignore[arg-type]  # builds activities only
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{port}/api/messages", json=chat.in_channel(SETUP)
            ) as answer,
        ):
            assert answer.status in (200, 201)
        [charter] = await connector.wait_for(1)
        async with database.session() as session:
            community = (await session.exec(select(Community))).one()
        now = datetime.now(UTC)
        await a_ritual(database, community, now=now, reminders=[1], **in_minutes(now, AHEAD))
        copbot.core.deliveries.wake()
        sent = await connector.wait_for(2, timeout=30)
        await copbot.core.deliveries.sweep()
    reminders = [a for a in connector.sent_activities() if "Reminder" in (a.get("summary") or "")]
    assert len(reminders) == 1 and sent[1] == reminders[0]
    text = card_text(reminders[0])
    assert "**#1 Deep dive** starts in 1m: {{DATE(" in text and "Going: 0" in text
    actions = reminders[0]["attachments"][0]["content"]["actions"]
    assert [a["data"]["action"] for a in actions] == ["rsvp", "rsvp", "rsvp"]
    assert charter != reminders[0]
