"""The monthly digest: stewards and sponsors get it once per community and month, with two
runners racing, after a restart, and after a process died mid-send; on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.app import Core, build_core
from bot.clock import FixedClock
from bot.digests import LEASE, DigestRunner
from bot.replies import Reply
from bot.services import digests as rows
from bot.settings import Settings
from copbot.app import running
from messages.rendering import Renderer
from storage.database import Database
from storage.models import HealthDigest, Role
from tests.health_history import History
from tests.ritual_rows import RecordingPlatform, a_community

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the conftest clock: February's digest is due


async def a_history(core: Core, clock: FixedClock) -> History:
    history = await History.start(
        core,
        clock.now(),
        members={"alice": Role.STEWARD, "kai": Role.SPONSOR, "bob": Role.CORE, "dana": "member"},
    )
    # January: two meetings of 4; February: two of 6 with a better pulse and a win.
    for days_ago, came, pulse in ((50, 4, [3]), (40, 4, [3]), (25, 6, [1]), (15, 6, [2])):
        await history.meeting(days_ago=days_ago, came=came, pulse=pulse, facilitator="bob")
    await history.win("dana", days_ago=20)
    await history.activity("dana", days_ago=1)
    return history


def digests_in(platform: RecordingPlatform) -> list[Reply]:
    return [r for r in platform.sent if r.kind == "health_digest"]


def readers(replies: list[Reply]) -> list[str | None]:
    return sorted(r.to.user for r in replies if r.to is not None)


async def stored(database: Database) -> list[HealthDigest]:
    async with database.session() as session:
        return list((await session.exec(select(HealthDigest))).all())


def another_process(core: Core, clock: FixedClock) -> tuple[Core, RecordingPlatform]:
    """A second copbot on the same database: its own engine, core and platform."""
    database = Database(core.database.url, schema=core.database.schema)
    other = build_core(core.settings, database=database, clock=clock)
    platform = RecordingPlatform("test")
    other.outbox.register(platform)
    return other, platform


async def test_stewards_and_sponsors_get_last_months_figures_once(
    core: Core, clock: FixedClock
) -> None:
    await a_history(core, clock)
    platform = RecordingPlatform("test")
    core.outbox.register(platform)
    assert await core.digests.run() == 2
    sent = digests_in(platform)
    assert readers(sent) == ["alice", "kai"]  # not the core team, not members
    data = sent[0].data
    assert data["month"] == "February 2026"
    assert data["figures"]["attendance"] == {"now": 6.0, "before": 4.0, "direction": "up"}
    assert data["figures"]["wins"] == {"now": 1, "before": 0, "direction": "up"}
    text = Renderer("text").text("health_digest", data)
    assert "What changed: Active members went up" in text
    assert "people per meeting went up from 4.0 to 6.0" in text
    assert "To forward: In February 2026, Data Science held 2 meetings with 6.0 people" in text
    [row] = await stored(core.database)
    assert sorted(r.key or "" for r in sent) == [f"digest:{row.id}:alice", f"digest:{row.id}:kai"]
    # Later that month, hourly: nothing more.
    clock.advance(hours=5)
    assert await core.digests.run() == 0
    [row] = await stored(core.database)
    assert (row.month, row.outcome, row.posts) == (
        "2026-02",
        "sent",
        {"alice": "sent", "kai": "sent"},
    )
    # A month on, March's.
    clock.advance(days=31)
    assert await core.digests.run() == 2
    assert {r.data["month"] for r in digests_in(platform)} == {"February 2026", "March 2026"}


async def test_two_processes_racing_send_each_digest_once(core: Core, clock: FixedClock) -> None:
    history = await a_history(core, clock)
    for number in range(2, 6):
        await a_community(
            core.database,
            now=history.now - timedelta(days=90),
            channel=f"C{number}",
            name=f"Platform {number}",
            members={f"erin{number}": Role.STEWARD, f"finn{number}": Role.SPONSOR},
        )
    first = RecordingPlatform("test")
    core.outbox.register(first)
    other, second = another_process(core, clock)
    # One digest claimed at a time, so the two processes take turns and meet on every row.
    runners = [
        DigestRunner(process.database, clock, process.outbox, process.health, batch=1)
        for process in (core, other, core, other)
    ]
    try:
        results = await asyncio.gather(*(runner.run() for runner in runners))
    finally:
        await other.database.close()
    assert sum(results) == 10
    everyone = readers(digests_in(first) + digests_in(second))
    assert len(everyone) == len(set(everyone)) == 10
    assert digests_in(first) and digests_in(second)  # both took part
    assert {row.outcome for row in await stored(core.database)} == {"sent"}


async def test_after_a_restart_nothing_is_sent_again(
    core: Core, clock: FixedClock, settings: Settings, database: Database
) -> None:
    await a_history(core, clock)
    platform = RecordingPlatform("test")
    core.outbox.register(platform)
    assert await core.digests.run() == 2
    restarted = build_core(settings, database=database, clock=clock)
    again = RecordingPlatform("test")
    restarted.outbox.register(again)
    clock.advance(minutes=30)
    assert await restarted.digests.run() == 0
    assert digests_in(again) == []


async def test_a_post_lost_mid_send_is_looked_up_not_sent_twice(
    core: Core, clock: FixedClock
) -> None:
    await a_history(core, clock)
    platform = RecordingPlatform("test", finds=True)
    platform.break_next = 1  # alice's digest goes out but the answer is lost
    core.outbox.register(platform)
    assert await core.digests.run() == 0
    [row] = await stored(core.database)
    assert row.posts == {"alice": "posting"} and row.sent_at is None
    # Before the lease runs out nobody takes it over; then a restarted process does.
    assert await core.digests.run() == 0
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await core.digests.run() == 1
    assert platform.lookups == [f"digest:{row.id}:alice"]
    assert readers(digests_in(platform)) == ["alice", "kai"]  # alice's once
    [row] = await stored(core.database)
    assert row.posts == {"alice": "sent", "kai": "sent"} and row.outcome == "sent"


async def test_where_posts_cannot_be_looked_up_an_unsure_one_is_not_sent_again(
    core: Core, clock: FixedClock
) -> None:
    await a_history(core, clock)
    platform = RecordingPlatform("test")
    platform.break_next = 1
    core.outbox.register(platform)
    assert await core.digests.run() == 1  # kai's
    clock.advance(hours=1)
    assert await core.digests.run() == 0
    assert readers(digests_in(platform)) == ["alice", "kai"]
    [row] = await stored(core.database)
    assert row.posts == {"alice": "unknown", "kai": "sent"} and row.outcome == "sent"


async def test_communities_born_later_archived_or_elsewhere_get_no_digest(
    core: Core, clock: FixedClock
) -> None:
    await a_community(core.database, now=NOW - timedelta(days=1), channel="C5", name="New")
    archived = await a_community(
        core.database, now=NOW - timedelta(days=99), channel="C6", name="Old"
    )
    async with core.database.session() as session:
        archived.archived_at = NOW - timedelta(days=50)
        session.add(archived)
    await a_community(
        core.database,
        now=NOW - timedelta(days=99),
        channel="C7",
        name="Elsewhere",
        platform="other",
    )
    platform = RecordingPlatform("test")
    core.outbox.register(platform)
    assert await core.digests.run() == 0
    # Only Elsewhere's row, kept for a process where its platform runs.
    [row] = await stored(core.database)
    assert (row.month, row.sent_at, row.attempts) == ("2026-02", None, 0)


def test_the_month_reported_is_the_calendar_month_before() -> None:
    period = rows.last_month(datetime(2026, 1, 1, 0, 30, tzinfo=UTC))
    assert (period.before, period.since, period.until) == (
        datetime(2025, 11, 1, tzinfo=UTC),
        datetime(2025, 12, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert rows.month_key(period) == "2025-12"


async def test_the_composition_root_looks_at_the_digests_on_the_scheduler(
    settings: Settings, database: Database, clock: FixedClock
) -> None:
    async with running(settings, database=database, clock=clock, serve=False) as copbot:
        assert "monthly digests" in copbot.scheduler.jobs
