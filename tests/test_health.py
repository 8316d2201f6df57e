"""`stats`: the figures, their trends and each warning sign from constructed histories, the
role check, and the console's sparklines, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.app import Core
from bot.clock import FixedClock
from bot.services.health import Period, Report
from bot.services.health_signs import Session, carrying, falling_attendance, trend
from storage.models import Community
from tests.console_bot import ConsoleBot
from tests.health_history import History


async def report_of(history: History, days: int = 90) -> Report:
    return await history.core.health.report(history.community, Period.last_days(history.now, days))


def kinds(report: Report) -> list[str]:
    return [w["kind"] for w in report.warnings]


def warning(report: Report, kind: str) -> dict[str, object]:
    [found] = [w for w in report.warnings if w["kind"] == kind]
    return found


# Figures and trends --------------------------------------------------------------------------


async def test_figures_and_their_trends_compare_with_the_period_before(
    core: Core, clock: FixedClock
) -> None:
    history = await History.start(core, clock.now())
    await history.member("dana", days_ago=200)
    await history.member("emeka", days_ago=20)  # new in this period
    # The period before (90 to 180 days ago): two meetings of 4, pulse 2 ("useful" = 3).
    await history.meeting(
        days_ago=150, came=["alice", "bob", "dana", "x"], facilitator="bob", pulse=[2]
    )
    await history.meeting(
        days_ago=120, came=["alice", "bob", "dana", "y"], facilitator="bob", pulse=[2]
    )
    await history.win("dana", days_ago=100)
    # This period: three meetings of 6 on average, led by two people, better pulses.
    await history.meeting(days_ago=60, came=5, facilitator="alice", pulse=[1, 1])
    await history.meeting(
        days_ago=30,
        came=["alice", "dana", "emeka", "a", "b", "c", "d"],
        facilitator="bob",
        pulse=[1, 2],
    )
    await history.meeting(days_ago=10, came=6, facilitator="alice", pulse=[2, 1])
    await history.meeting(days_ago=5, came=9, status="cancelled")  # never took place
    await history.win("dana", days_ago=20)
    await history.win("emeka", days_ago=3)
    await history.kudos("bob", "dana", days_ago=2)
    await history.resource("dana", days_ago=4)
    await history.resource("bob", days_ago=4, status="draft")  # not published: not counted
    await history.resource("bob", days_ago=95)
    report = await report_of(history)
    now, before = report.now, report.previous
    assert (now.sessions, before.sessions) == (3, 2)
    assert (now.attendance, before.attendance) == (6.0, 4.0)
    # Scores 4, 4 | 4, 3 | 3, 4 this period; 3 and 3 before.
    assert now.pulse == pytest.approx(22 / 6) and before.pulse == 3.0
    assert now.pulse_votes == 6
    assert (now.wins, before.wins, now.kudos, now.resources, before.resources) == (2, 1, 1, 1, 1)
    assert (now.facilitators, before.facilitators) == (2, 1)
    # Members who did anything: alice, dana, emeka (came, shared a win), bob (kudos).
    assert (now.active, now.new, now.returning) == (4, 1, 3)
    assert before.active == 3  # alice, bob, dana
    assert [s.attendees for s in report.sessions] == [5, 7, 6]


async def test_a_pulse_vote_counts_as_the_voters_latest_chosen_option(
    core: Core, clock: FixedClock
) -> None:
    history = await History.start(core, clock.now())
    meeting = await history.meeting(days_ago=10, came=3, pulse=[])
    await history.vote(meeting, "dana", 4, chosen=True, minutes=70)  # first "not useful"…
    await history.vote(meeting, "dana", 1, chosen=True, minutes=80)  # …then "great"
    await history.vote(meeting, "emeka", 2, chosen=True, minutes=70)
    await history.vote(meeting, "emeka", 3, chosen=False, minutes=75)  # taken back
    report = await report_of(history)
    assert report.now.pulse_votes == 2
    assert report.now.pulse == pytest.approx((4 + 3) / 2)


def test_a_trend_says_which_way_a_figure_moved() -> None:
    assert trend(5, 3) == {"now": 5, "before": 3, "direction": "up"}
    assert trend(2.25, 3.0)["direction"] == "down" and trend(2.25, 3.0)["now"] == 2.2
    assert trend(3, 3)["direction"] == "same"
    assert trend(3.0, None)["direction"] == "new"
    assert trend(None, None)["direction"] == "none"
    assert trend(None, 2.0)["direction"] == "down"


# Warnings ------------------------------------------------------------------------------------


async def test_attendance_falling_three_meetings_in_a_row_is_a_warning(
    core: Core, clock: FixedClock
) -> None:
    history = await History.start(core, clock.now())
    for days_ago, came in ((40, 8), (30, 6), (20, 5), (10, 3)):
        await history.meeting(days_ago=days_ago, came=came, ritual=1)
    for days_ago, came in ((41, 8), (31, 6), (21, 7), (11, 3)):  # a rise between: no warning
        await history.meeting(days_ago=days_ago, came=came, ritual=2)
    report = await report_of(history)
    assert warning(report, "falling") == {
        "kind": "falling",
        "number": 1,
        "title": "Ritual 1",
        "counts": [8, 6, 5, 3],
    }


async def test_steady_attendance_is_no_warning(core: Core, clock: FixedClock) -> None:
    history = await History.start(core, clock.now())
    for days_ago, came in ((40, 8), (30, 6), (20, 6), (10, 3)):
        await history.meeting(days_ago=days_ago, came=came)
    assert "falling" not in kinds(await report_of(history))


async def test_a_rotating_ritual_with_nobody_to_lead_its_next_meetings_is_a_warning(
    core: Core, clock: FixedClock
) -> None:
    history = await History.start(core, clock.now())
    await history.ritual(1, rotate=True, title="Deep dive")
    await history.ritual(2, rotate=True, title="Show and tell")
    await history.ritual(3, rotate=False, title="Office hours")
    await history.meeting(days_ago=-3, ritual=1)
    await history.meeting(days_ago=-10, ritual=1)
    await history.meeting(days_ago=-30, ritual=1)  # beyond the horizon
    await history.meeting(days_ago=-3, ritual=2, facilitator="bob")
    await history.meeting(days_ago=-3, ritual=3)  # not rotating: a steward leads it
    await history.meeting(days_ago=-4, ritual=2, status="skipped")
    report = await report_of(history)
    found = warning(report, "unled")
    assert (found["number"], found["title"], found["meetings"]) == (1, "Deep dive", 2)
    assert str(found["first"]).startswith((clock.now() + timedelta(days=3)).date().isoformat())


async def test_rituals_with_their_facilitators_are_no_warning(
    core: Core, clock: FixedClock
) -> None:
    history = await History.start(core, clock.now())
    await history.ritual(1, rotate=True)
    await history.meeting(days_ago=-3, facilitator="bob")
    await history.meeting(days_ago=3)  # past meetings are not asked about
    assert "unled" not in kinds(await report_of(history))


async def test_a_long_silence_is_a_warning(core: Core, clock: FixedClock) -> None:
    history = await History.start(core, clock.now())
    await history.win("dana", days_ago=40)
    await history.activity("dana", days_ago=20)
    found = warning(await report_of(history), "silence")
    assert found == {"kind": "silence", "days": 20, "at_least": False}


async def test_nothing_at_all_since_long_ago_is_a_silence_of_at_least_the_periods(
    core: Core, clock: FixedClock
) -> None:
    history = await History.start(core, clock.now())
    found = warning(await report_of(history, days=30), "silence")
    assert found == {"kind": "silence", "days": 60, "at_least": True}


@pytest.mark.parametrize("source", ["activity", "win", "kudos", "resource", "vote", "attendance"])
async def test_any_recent_activity_breaks_the_silence(
    core: Core, clock: FixedClock, source: str
) -> None:
    history = await History.start(core, clock.now())
    match source:
        case "activity":
            await history.activity("dana", days_ago=3)
        case "win":
            await history.win("dana", days_ago=3)
        case "kudos":
            await history.kudos("dana", "bob", days_ago=3)
        case "resource":
            await history.resource("dana", days_ago=3)
        case "vote":
            meeting = await history.meeting(days_ago=30, pulse=[])
            await history.vote(meeting, "dana", 1, chosen=True, minutes=60 * 24 * 27)
        case "attendance":
            await history.meeting(days_ago=5, came=["dana"])  # recorded 2 hours after
    assert "silence" not in kinds(await report_of(history))


async def test_a_young_community_is_not_silent_yet(core: Core, clock: FixedClock) -> None:
    history = await History.start(core, clock.now(), since=timedelta(days=5))
    assert "silence" not in kinds(await report_of(history))


async def test_one_person_leading_most_meetings_is_a_warning(core: Core, clock: FixedClock) -> None:
    history = await History.start(core, clock.now())
    for days_ago, who in ((50, "bob"), (40, "bob"), (30, "alice"), (20, "bob"), (10, "bob")):
        await history.meeting(days_ago=days_ago, came=3, facilitator=who)
    found = warning(await report_of(history), "carrying")
    assert found == {"kind": "carrying", "person": "bob", "led": 4, "of": 5}


async def test_shared_facilitation_is_no_warning(core: Core, clock: FixedClock) -> None:
    history = await History.start(core, clock.now())
    for days_ago, who in ((50, "bob"), (40, "alice"), (30, "dana"), (20, "bob"), (10, "alice")):
        await history.meeting(days_ago=days_ago, came=3, facilitator=who)
    assert "carrying" not in kinds(await report_of(history))


async def test_newcomers_who_never_came_to_a_meeting_are_a_warning(
    core: Core, clock: FixedClock
) -> None:
    history = await History.start(core, clock.now())
    await history.member("dana", days_ago=40)  # missed the meeting 20 days ago
    await history.member("emeka", days_ago=40)  # came to it
    await history.member("fatima", days_ago=5)  # no meeting since she joined
    await history.member("gus", days_ago=300)  # not new
    await history.meeting(days_ago=20, came=["emeka", "bob"])
    found = warning(await report_of(history), "newcomers")
    assert found == {"kind": "newcomers", "people": ["dana"]}


async def test_newcomers_who_came_are_no_warning(core: Core, clock: FixedClock) -> None:
    history = await History.start(core, clock.now())
    await history.member("dana", days_ago=40)
    await history.meeting(days_ago=20, came=["dana"])
    assert "newcomers" not in kinds(await report_of(history))


def _session(n: int, came: int | None, who: str | None = None) -> Session:
    return Session(
        occurrence_id=n,
        ritual_number=1,
        ritual_title="R",
        starts_at=datetime(2026, 1, n, tzinfo=UTC),
        facilitator=who,
        attendees=came,
    )


def test_unrecorded_meetings_neither_make_nor_break_a_fall() -> None:
    sessions = [_session(1, 9), _session(2, 7), _session(3, None), _session(4, 5), _session(5, 2)]
    assert falling_attendance(sessions)[0]["counts"] == [9, 7, 5, 2]
    assert falling_attendance(sessions[:4]) == []


def test_carrying_needs_a_few_meetings_first() -> None:
    assert carrying([_session(n, 3, "bob") for n in range(1, 4)]) is None
    assert carrying([_session(n, 3, "bob") for n in range(1, 5)]) == ("bob", 4, 4)


# The command ---------------------------------------------------------------------------------


async def test_stats_is_for_stewards_core_team_and_sponsors(core: Core, bot: ConsoleBot) -> None:
    await bot.say('setup "DS"')
    for name in ("bob", "kai", "dana"):
        await bot.say("join", as_=name)
    await bot.say("role <@bob|Bob> core", as_="alice")
    await bot.say("role <@kai|Kai> sponsor", as_="alice")
    refused = await bot.say("stats", as_="dana")
    assert "Only stewards, the core team or sponsors can use `stats`" in refused
    assert "Health of DS over the last 90 days" not in refused
    for name in ("alice", "bob", "kai"):
        assert "Health of DS over the last 90 days" in await bot.say("stats", as_=name)
    outsider = await bot.say("stats", as_="zed")
    assert "Only stewards, the core team or sponsors can use `stats`" in outsider


@pytest.mark.parametrize("typed", ["stats 3", "stats days=1000", "stats days=soon", "stats 30 60"])
async def test_a_period_out_of_range_is_explained(bot: ConsoleBot, typed: str) -> None:
    await bot.say('setup "DS"')
    answer = await bot.say(typed)
    assert "Say how many days to look back, from 7 to 730" in answer
    assert "Usage: stats [days=90]" in answer


async def test_the_console_shows_sparklines_and_the_warnings(
    core: Core, clock: FixedClock, bot: ConsoleBot
) -> None:
    await bot.say('setup "DS"')
    async with core.database.session() as session:
        community = (
            await session.exec(select(Community).where(Community.channel_id == "ds"))
        ).one()
    history = History(core, community, clock.now())
    for days_ago, came, pulse in ((40, 8, [1]), (30, 6, [2]), (20, 4, [3]), (10, 2, [4])):
        await history.meeting(days_ago=days_ago, came=came, pulse=pulse)
    clock.advance(seconds=1)
    shown = await bot.say("stats 60")
    assert "People per meeting  █▆▅▃" in shown
    assert "Pulse               █▆▃▁" in shown
    assert "Fewer people came to #1 Ritual 1 three meetings in a row: 8, 6, 4, 2." in shown
    assert "/charts/" not in shown
