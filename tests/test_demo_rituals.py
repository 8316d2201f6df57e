"""`copbot demo` gives its community rituals with a past: meetings that took place, who
facilitated them and who came, written by the commands themselves under an earlier clock."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import col, select

from bot.app import Core
from bot.events import Origin
from copbot.demo import seed_demo
from storage.models import Attendance, Occurrence, Poll, PollVote, Ritual
from tests.console_bot import ConsoleBot


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the demo drives the same commands the other tests run on both


async def test_the_demo_has_rituals_with_history(core: Core, bot: ConsoleBot) -> None:
    result = await seed_demo(core)
    assert result.problems == ()
    async with core.database.session() as session:
        rituals = (await session.exec(select(Ritual).order_by(col(Ritual.number)))).all()
        past = (
            await session.exec(
                select(Occurrence).where(
                    col(Occurrence.starts_at) < core.clock.now(),
                    col(Occurrence.status) == "scheduled",
                )
            )
        ).all()
        came = (await session.exec(select(Attendance))).all()
    assert [r.template for r in rituals] == ["deep-dive", "show-and-tell", "office-hours"]
    assert len(past) >= 25  # eighteen weeks of three rituals
    facilitated = Counter(o.facilitator_id for o in past if o.facilitator_id)
    assert set(facilitated) >= {"alice", "bob", "chen", "dana"}  # dana volunteered
    assert "kai" not in facilitated  # a sponsor who never volunteered
    assert any(o.facilitator_confirmed for o in past)
    assert len({a.occurrence_id for a in came}) == len(past)
    ledger = await bot.say("rotation #2 history", as_="zoe", channel="data-science")
    assert "@Dana: " in ledger and "Latest meetings:" in ledger
    assert "#3 Office hours" in await bot.say("ritual next 5", channel="data-science")
    again = await seed_demo(core)  # a second run adds nothing
    assert again.problems == ()
    async with core.database.session() as session:
        assert len((await session.exec(select(Ritual))).all()) == 3


async def test_the_demo_gives_stats_real_trends_pulses_and_warnings(
    core: Core, bot: ConsoleBot
) -> None:
    await seed_demo(core)
    shown = await bot.say("stats", as_="alice", channel="data-science")
    assert "Health of Data Science over the last 90 days" in shown
    assert "Pulse: 3" in shown or "Pulse: 2" in shown  # the pulses were answered
    assert "(was " in shown and ("↑" in shown or "↓" in shown)
    assert "2 newcomers have not come to a meeting yet: @Mia and @Noah" in shown
    assert "Fewer people came to #2 Show and tell three meetings in a row: 7, 5, 4, 2." in shown
    assert "People per meeting  " in shown and "Pulse               " in shown


async def test_the_demo_has_open_and_closed_polls_and_pulses_with_results(
    core: Core, bot: ConsoleBot
) -> None:
    assert (await seed_demo(core)).problems == ()
    async with core.database.session() as session:
        polls = (await session.exec(select(Poll).order_by(col(Poll.number)))).all()
        votes = (await session.exec(select(PollVote))).all()
    pulses = [p for p in polls if p.occurrence_id is not None]
    others = [p for p in polls if p.occurrence_id is None]
    # Every meeting that ended has its pulse (stats shows them over time); the latest is open.
    assert len(pulses) >= 25 and all(p.anonymous for p in pulses)
    assert [p.closed_at is None for p in pulses] == [False] * (len(pulses) - 1) + [True]
    assert all(tuple(p.options) == ("great", "useful", "meh", "not useful") for p in pulses)
    assert [p.closed_at is None for p in others] == [False, True, True]
    for poll in polls:
        assert any(v.poll_id == poll.id and v.chosen for v in votes), poll.question
    # Pulse voters are keyed hashes, never people's names.
    names = {"alice", "bob", "chen", "dana", "emeka", "gus", "lena", "jo", "fatima", "ivan"}
    assert not {v.voter for v in votes if v.poll_id in {p.id for p in pulses}} & names
    closed = others[0]
    results = await bot.say(f"poll results #{closed.number}", channel="data-science")
    assert "Tuesday" in results and "3 (50%)" in results
    pulse_results = await bot.say(f"poll results #{pulses[0].number}", channel="data-science")
    assert "How was" in pulse_results and "great" in pulse_results
    await seed_demo(core)  # a second run adds no polls
    async with core.database.session() as session:
        assert len((await session.exec(select(Poll))).all()) == len(polls)


async def test_the_demo_votes_in_its_own_polls_beside_a_community_with_more(
    core: Core, bot: ConsoleBot
) -> None:
    """Polls are numbered per community: the demo took the newest number of any community."""
    await bot.say('setup "Other"', as_="zed", channel="other")
    community, _ = await core.communities.where_and_who(
        Origin(platform="console", workspace="local", channel="other", user="zed")
    )
    assert community is not None and community.id is not None
    async with core.database.session() as session:
        session.add(
            Poll(
                community_id=community.id,
                number=500,
                question="Elsewhere?",
                options=["x", "y"],
                created_by="zed",
                created_at=core.clock.now(),
            )
        )
    result = await seed_demo(core)
    assert result.problems == ()
