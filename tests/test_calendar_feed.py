"""The calendar over copbot's HTTP server and the command line, read back by an independent
expander (recurring-ical-events): its instants are the ones `ritual next` shows, across the
March change to summer time and after every kind of change."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import recurring_ical_events
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from icalendar import Calendar

from bot.app import Core
from bot.clock import FixedClock
from copbot.app import web_app
from tests.console_bot import ConsoleBot
from tests.ritual_state import ADD_DEEP_DIVE, community, replies, rituals_in, shown_starts

Client = TestClient[web.Request, web.Application]
ROOT = Path(__file__).resolve().parents[1]
COPBOT = (sys.executable, "-m", "copbot")


@pytest.fixture
async def http(core: Core) -> AsyncIterator[Client]:
    """copbot's own HTTP application (the one `copbot serve` runs) over `core`."""
    client: Client = TestClient(TestServer(web_app(core), host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


async def feed_path(core: Core) -> str:
    [answer] = await replies(core, "ritual feed", user="carol")
    return path_of(answer.data["url"])


def expand(body: bytes, start: datetime, end: datetime) -> list[tuple[str, datetime]]:
    """(UID, UTC start) of every meeting in [start, end), the way calendar clients see it."""
    events = recurring_ical_events.of(Calendar.from_ical(body)).between(start, end)
    return sorted((str(e["UID"]), e["DTSTART"].dt.astimezone(UTC)) for e in events)


async def read(http: Client, path: str) -> bytes:
    response = await http.get(path)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/calendar"
    return await response.read()


async def test_done_when_the_feed_has_the_instants_ritual_next_shows(
    core: Core, bot: ConsoleBot, http: Client, clock: FixedClock
) -> None:
    await community(bot)
    await bot.say(ADD_DEEP_DIVE, as_="alice")
    shown = await shown_starts(core, 6)
    body = await read(http, await feed_path(core))
    [ritual] = await rituals_in(core)
    read_back = expand(body, clock.now(), shown[-1] + timedelta(minutes=1))
    assert read_back == [(ritual.uid, start) for start in shown]
    assert [start.hour for _, start in read_back] == [14, 13, 13, 13, 13, 13]  # 15:00 Berlin
    calendar = Calendar.from_ical(body)
    [event] = calendar.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert str(event["UID"]) == ritual.uid and int(event["SEQUENCE"]) == 0
    assert event.get("RRULE")["BYDAY"] == ["1TU"]
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert str(calendar["X-WR-CALNAME"]) == "Data Science"


async def test_every_change_shows_in_the_feed_as_in_ritual_next(
    core: Core, bot: ConsoleBot, http: Client, clock: FixedClock
) -> None:
    await community(bot)
    await bot.say(ADD_DEEP_DIVE, as_="alice")
    await bot.say("ritual add office-hours every week on fri at 09:00 America/New_York", as_="bob")
    path = await feed_path(core)

    async def agree(count: int) -> None:
        shown = await shown_starts(core, count)
        body = await read(http, path)
        read_back = expand(body, clock.now(), shown[-1] + timedelta(seconds=1))
        assert sorted(start for _, start in read_back) == shown

    await agree(12)
    for change in (
        "ritual skip #1 2026-04-07",
        "ritual skip #2",
        "ritual move #1 2026-05-05 to 2026-05-08 at 09:30",
        "ritual move #2 2026-03-13 to 2026-03-12 at 18:00",
        "ritual pause #2 until 2026-04-01",
        "ritual pause #1",
        "ritual resume #1",
    ):
        assert "error" not in await bot.say(change, as_="alice"), change
        await agree(12)
    clock.advance(days=40)
    await bot.say("ritual edit #1 every 2 weeks on thu at 10:00 Asia/Tokyo", as_="alice")
    await agree(12)
    # The meetings before the edit stay in calendars, under a series of their own.
    body = await read(http, path)
    early = expand(body, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC))
    [deep_dive, office_hours] = await rituals_in(core)
    assert early[0] == (f"ended-1-{deep_dive.uid}", datetime(2026, 3, 3, 14, tzinfo=UTC))
    assert deep_dive.sequence == 5 and office_hours.sequence == 3
    sequences = {str(e["UID"]): int(e["SEQUENCE"]) for e in Calendar.from_ical(body).walk("VEVENT")}
    assert sequences[deep_dive.uid] == 5 and sequences[office_hours.uid] == 3
    await bot.say("ritual cancel #2", as_="alice")
    body = await read(http, path)
    assert office_hours.uid not in {str(e["UID"]) for e in Calendar.from_ical(body).walk("VEVENT")}
    await agree(6)


async def test_one_meeting_as_a_file(core: Core, bot: ConsoleBot, http: Client) -> None:
    await community(bot)
    await bot.say(ADD_DEEP_DIVE, as_="alice")
    [detail] = await replies(core, "ritual show #1", user="dan")
    second = detail.data["meetings"][1]
    body = await read(http, path_of(second["ics"]))
    [event] = Calendar.from_ical(body).walk("VEVENT")
    assert event["DTSTART"].dt.astimezone(UTC) == datetime(2026, 4, 7, 13, tzinfo=UTC)
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event["DURATION"].dt == timedelta(hours=1)
    assert str(event["UID"]).startswith(f"meeting-{second['id']}-")
    assert "RRULE" not in event
    await bot.say("ritual skip #1 2026-04-07", as_="alice")
    assert (await http.get(path_of(second["ics"]))).status == 404  # called off


async def test_unknown_secrets_and_meetings_are_not_found(
    core: Core, bot: ConsoleBot, http: Client
) -> None:
    await community(bot)
    await bot.say(ADD_DEEP_DIVE, as_="alice")
    await bot.say('setup "Platform"', as_="erin", channel="platform")
    await bot.say("ritual add office-hours", as_="erin", channel="platform")
    [theirs] = await replies(core, "ritual show #1", user="erin", channel="platform")
    ours = await feed_path(core)
    other_meeting = path_of(theirs.data["meetings"][0]["ics"])
    secret = ours.removesuffix(".ics")
    for path in (
        "/calendar/not-a-real-secret-at-all.ics",
        "/calendar/x.ics",
        f"{secret}/{other_meeting.rsplit('/', 1)[1]}",  # a meeting of another community
        f"{secret}/999999.ics",
        f"{secret}/12345678901234567890.ics",
    ):
        assert (await http.get(path)).status == 404, path


# The command line reads the test's SQLite file (the feed itself is the same on both).
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_command_line_prints_the_same_feed(
    core: Core, bot: ConsoleBot, http: Client, clock: FixedClock
) -> None:
    await community(bot)
    await bot.say(ADD_DEEP_DIVE, as_="alice")
    served = await read(http, await feed_path(core))
    environment = {**os.environ, "COPBOT_LOG_LEVEL": "WARNING"}
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "TEAMS_APP_ID"):
        environment.pop(name, None)
    printed = subprocess.run(
        [*COPBOT, "calendar", "--channel", "ds", "--database", core.database.url],
        capture_output=True,
        env=environment,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    window = (clock.now(), clock.now() + timedelta(days=400))
    assert expand(printed.stdout, *window) == expand(served, *window)
    missing = subprocess.run(
        [*COPBOT, "calendar", "--channel", "nowhere", "--database", core.database.url],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert missing.returncode == 1 and "no community in #nowhere" in missing.stderr
