"""The scheduler wrapper wakes copbot up: interval and one-off jobs run, failures are logged."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from rituals.scheduler import Scheduler


async def test_a_one_off_job_runs_and_an_interval_job_repeats() -> None:
    fired = asyncio.Event()
    ticks: list[int] = []

    async def once() -> None:
        fired.set()

    async def tick() -> None:
        ticks.append(1)

    async with Scheduler() as scheduler:
        scheduler.at("once", datetime.now(UTC) + timedelta(milliseconds=50), once)
        scheduler.every("tick", 0.02, tick)
        await asyncio.wait_for(fired.wait(), 5)
        while len(ticks) < 2:
            await asyncio.sleep(0.01)
        assert "tick" in scheduler.jobs
        scheduler.cancel("tick")
        assert "tick" not in scheduler.jobs


async def test_a_failing_job_is_logged_and_runs_again(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def broken() -> None:
        runs.append(1)
        raise RuntimeError("boom")

    async with Scheduler() as scheduler:
        scheduler.every("broken", 0.02, broken)
        while len(runs) < 2:
            await asyncio.sleep(0.01)
    assert any("scheduled job broken failed" in r.getMessage() for r in caplog.records)


async def test_a_job_due_while_nothing_ran_is_run_late_not_dropped() -> None:
    fired = asyncio.Event()

    async def late() -> None:
        fired.set()

    async with Scheduler() as scheduler:
        scheduler.at("late", datetime.now(UTC) - timedelta(minutes=5), late)
        await asyncio.wait_for(fired.wait(), 5)


async def test_leaving_waits_for_a_running_job_so_what_it_uses_is_not_closed_under_it() -> None:
    """`copbot chat` on a fresh demo left while a delivery sweep was in a database session:
    the database closed under it and SQLAlchemy printed a CancelledError traceback."""
    started, ended = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(0.2)
        ended.set()

    async with Scheduler() as scheduler:
        scheduler.at("slow", datetime.now(UTC), slow)
        await asyncio.wait_for(started.wait(), 5)
    assert ended.is_set()


async def test_a_job_still_running_after_the_grace_is_cancelled() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def stuck() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with Scheduler(grace=0.05) as scheduler:
        scheduler.at("stuck", datetime.now(UTC), stuck)
        await asyncio.wait_for(started.wait(), 5)
    assert cancelled.is_set()
